"""The one idempotent scan engine (the door and the mailroom) and the offline exchange."""
