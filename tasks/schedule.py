"""The periodic schedule: what `python -m cli.cron` enqueues, and how often.

Exactly one cron process runs (deploy/); each job is idempotent, so an overlap after a
restart does no harm.
"""

from tasks import (
    checks,
    funnels,
    live_codes,
    maintenance,
    notices,
    qrcodes,
    reconcile,
    reminders,
    retention,
    touches,
    wechat_events,
)

# (function, queue, interval in seconds)
PERIODIC = (
    (maintenance.purge_expired_sessions, "default", 3600),
    (touches.flush_touches, "default", 60),
    (wechat_events.drain_inbox, "default", 60),
    (checks.flag_silent_media_checks, "default", 300),
    (live_codes.rebuild_live_codes, "default", 60),
    (funnels.roll_up_touches, "default", 30),
    (qrcodes.purge_old_kits, "default", 86400),
    (notices.sweep_outbox, "default", 30),
    (reminders.create_due_reminders, "default", 300),
    (reconcile.requeue_lost_checks, "default", 60),
    (retention.apply_retention, "default", 86400),
)
