"""`python -m cli.worker`: an RQ worker on every queue, with RQ's scheduler.

The worker TTL and maintenance interval are short (RQ_WORKER_TTL, RQ_MAINTENANCE_INTERVAL)
so that a job abandoned by a killed worker is noticed in minutes, not the default half hour
(RELIABILITY-NOTES §1.4).
"""

import importlib
import logging
import pkgutil
import signal

from redis.exceptions import RedisError
from rq import Worker

import runtime
import tasks
from tasks.queue import QUEUE_NAMES, redis_connection

# Every job module, imported once here, so forked work-horses do not re-import them for
# every job (~40 ms); new modules in tasks/ are picked up without a list to keep.
JOB_MODULES = tuple(module.name for module in pkgutil.iter_modules(tasks.__path__))


log = logging.getLogger("cli.worker")
PAUSES = (1, 2, 5, 10)  # seconds between lives while Redis stays away
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


class StoppableWorker(Worker):
    """RQ's worker, remembering that SIGTERM or SIGINT (or RQ's shutdown command) asked it
    to stop.

    RQ records the request (`_stop_requested`) only when it finds the worker busy: an idle
    worker leaves `work()` by StopRequested with nothing recorded, which `main` cannot tell
    from a worker that quit on an error, so an idle worker came back instead of stopping."""

    stop_asked = False

    def request_stop(self, signum, frame):
        self.stop_asked = True
        super().request_stop(signum, frame)


def main() -> None:
    settings = runtime.bootstrap(redis_socket_timeout=None)
    for name in JOB_MODULES:
        importlib.import_module(f"tasks.{name}")
    lives, worker = 0, None
    while True:
        try:
            worker = StoppableWorker(
                list(QUEUE_NAMES),
                connection=redis_connection(),
                worker_ttl=settings.rq_worker_ttl,
                maintenance_interval=settings.rq_maintenance_interval,
            )
            worker.work(with_scheduler=True)
        except RedisError as error:  # no Redis to start with, or its teardown found none
            log.warning("worker lost Redis: %s", error)
        if worker is not None and worker.stop_asked:
            return  # SIGTERM or Ctrl-C, idle or after the job: a requested stop, not a lost Redis
        # RQ quits its loop on an error it does not handle, such as Redis going away in a
        # failover or a restart; the jobs are safe (the database is the record), so wait and
        # come back as a new worker rather than leave the queue without one.
        pause = PAUSES[min(lives, len(PAUSES) - 1)]
        log.warning("worker stopped unexpectedly; starting again in %s s", pause)
        if stop_signal_within(pause):
            log.warning("asked to stop while waiting for Redis; stopping")
            return
        lives += 1


def stop_signal_within(seconds: float) -> bool:
    """Wait `seconds`; True if SIGTERM or SIGINT came meanwhile. The signals are taken here,
    not by the handlers the last worker left installed: those raise out of the wait and
    ended the process with a traceback and status 1 (or, before any worker had installed
    them, SIGINT did)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        return signal.sigtimedwait(STOP_SIGNALS, seconds) is not None
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


if __name__ == "__main__":
    main()
