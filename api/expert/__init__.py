"""Expert JSON endpoints (/api/v1/expert/…)."""
