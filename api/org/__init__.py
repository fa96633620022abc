"""Organizer JSON endpoints (/api/v1/org/…)."""
