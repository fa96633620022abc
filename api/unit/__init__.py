"""Unit JSON endpoints for the mini-program and H5 (/api/v1/…)."""
