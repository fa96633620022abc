"""Public JSON endpoints, no sign-in (/api/v1/publications/…)."""
