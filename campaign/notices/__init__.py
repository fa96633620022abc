"""Notices: templates, consent, audiences, the outbox and reminders."""
