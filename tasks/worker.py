"""`python -m tasks.worker`: an RQ worker on every queue, with RQ's scheduler.

The worker TTL and maintenance interval are short (RQ_WORKER_TTL, RQ_MAINTENANCE_INTERVAL)
so that a job abandoned by a killed worker is noticed in minutes, not the default half hour
(RELIABILITY-NOTES §1.4).
"""

import importlib

from rq import Worker

import runtime
from tasks.queue import QUEUE_NAMES, redis_connection

# Imported once here, so forked work-horses do not re-import them for every job (~40 ms).
JOB_MODULES = (
    "checks",
    "evidence",
    "funnels",
    "maintenance",
    "notice_sending",
    "notices",
    "qrcodes",
    "reconcile",
    "reminders",
    "retention",
    "touches",
    "wechat_events",
)


def main() -> None:
    settings = runtime.bootstrap(redis_socket_timeout=None)
    for name in JOB_MODULES:
        importlib.import_module(f"tasks.{name}")
    worker = Worker(
        list(QUEUE_NAMES),
        connection=redis_connection(),
        worker_ttl=settings.rq_worker_ttl,
        maintenance_interval=settings.rq_maintenance_interval,
    )
    worker.work(with_scheduler=True)


if __name__ == "__main__":
    main()
