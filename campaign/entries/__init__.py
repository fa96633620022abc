"""Entries: drafts, submission, the status machine, evidence and checks."""
