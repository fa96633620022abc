"""Process entry points beside app.py: the RQ worker and the periodic scheduler."""
