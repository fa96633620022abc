"""Background jobs (RQ), grouped by topic, plus the worker and the periodic schedule."""
