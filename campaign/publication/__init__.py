"""Publication and 公示: frozen public lists, the working-day window, objections (issue 13)."""
