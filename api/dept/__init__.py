"""Department JSON endpoints (/api/v1/dept/…)."""
