"""The periodic schedule: what `python -m tasks.cron` enqueues, and how often.

Exactly one cron process runs (deploy/); each job is idempotent, so an overlap after a
restart does no harm.
"""

from tasks import checks, maintenance, touches, wechat_events

# (function, queue, interval in seconds)
PERIODIC = (
    (maintenance.purge_expired_sessions, "default", 3600),
    (touches.flush_touches, "default", 60),
    (wechat_events.drain_inbox, "default", 60),
    (checks.flag_silent_media_checks, "default", 300),
)
