"""Console sign-in JSON endpoints (/api/v1/console/…)."""
