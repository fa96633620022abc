"""`/q/<code>` scans: a code check in memory and a touch queued for Redis, nothing else.

The live codes are kept in each web process (`LiveCodes`), loaded from a Redis set that the
database fills. A version counter beside the set says when it changed; a process looks at it
at most once a second, so switching a channel off takes effect within a second everywhere,
and a process never asks the database on the hot path. A code the process does not know is
checked against Redis and then the database before anyone is told it does not exist, so a
new channel never gets a false 404. Touches go onto the buffer `tasks.touches`
drains, a few milliseconds' worth in one `RPUSH` (`ScanBatcher`).
"""

import atexit
import json
import logging
import os
import threading
import time

from redis import RedisError

from campaign.channels.departments import is_live
from campaign.channels.touches import touch_record
from tasks.buffers import schedule_drain
from tasks.live_codes import LIVE_CODES, VERSION, amend_live_codes, rebuild_live_codes
from tasks.queue import redis_connection
from tasks.touches import BUFFER as TOUCHES
from tasks.touches import flush_touches

log = logging.getLogger(__name__)

CHECK_EVERY = 1.0  # seconds between looks at the version counter, per process
RELOAD_EVERY = 300.0  # reload the whole set at least this often, changed or not
WINDOW = 0.02  # seconds a scan may wait in memory before it is sent to Redis
MAX_BATCH = 200  # send at once when this many are waiting
MAX_WAITING = 10_000  # kept while Redis is down; older scans are dropped beyond this


class LiveCodes:
    """This process's copy of the live codes, fresh to within `CHECK_EVERY` seconds."""

    def __init__(self):
        self.codes: frozenset[str] = frozenset()
        self.version = None
        self.checked_at = self.loaded_at = float("-inf")
        self.lock = threading.Lock()

    def __contains__(self, code: str) -> bool:
        now = time.monotonic()
        if now - self.checked_at >= CHECK_EVERY:
            self._refresh(now)
        if code in self.codes:
            return True
        if not _live_somewhere(code):
            return False
        with self.lock:
            self.codes = self.codes | {code}
        return True

    def _refresh(self, now: float) -> None:
        redis = redis_connection()
        version = redis.get(VERSION)
        with self.lock:
            self.checked_at = now
            fresh = now - self.loaded_at < RELOAD_EVERY
            if version is not None and version == self.version and fresh:
                return
        if version is None:  # Redis lost the set (restart, eviction): rebuild it
            refresh_live_codes()
            version = redis.get(VERSION)
        codes = frozenset(code.decode() for code in redis.smembers(LIVE_CODES))
        with self.lock:
            self.codes, self.version, self.loaded_at = codes, version, now

    def forget(self) -> None:
        """Look at Redis on the next scan (this process changed the set itself)."""
        with self.lock:
            self.checked_at = float("-inf")


def _live_somewhere(code: str) -> bool:
    """A code this process has not seen: in Redis' set, else in the database (then added)."""
    redis = redis_connection()
    if redis.sismember(LIVE_CODES, code):
        return True
    if not is_live(code):
        return False
    redis.sadd(LIVE_CODES, code)
    return True


_live = LiveCodes()


class ScanBatcher:
    """Scans of this process go to Redis together: one RPUSH at most `WINDOW` seconds after
    the first of them, from a background thread, so a request does no Redis I/O at all.

    A request-time RPUSH cost a fifth of the endpoint's throughput on a busy 2-core machine
    (bench/qr.py). The price: a worker killed outright (SIGKILL, OOM) loses the scans of its
    last `WINDOW` seconds — statistics, and the visitors were redirected either way. A normal
    stop sends them (atexit). A reply equal to the batch size (the buffer was empty)
    schedules a drain, as `tasks.buffers.append` does for a single record.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.waiting: list[str] = []
        self.wake = threading.Event()
        self.pid = None

    def add(self, payload: str) -> None:
        with self.lock:
            if self.pid != os.getpid():  # first scan in this process (or after a fork)
                self.pid, self.waiting = os.getpid(), []
                threading.Thread(target=self._run, name="scan-batcher", daemon=True).start()
            self.waiting.append(payload)
            if len(self.waiting) == 1 or len(self.waiting) >= MAX_BATCH:
                self.wake.set()

    def flush(self) -> int:
        """Send what is waiting now; return how many scans were sent."""
        with self.lock:
            batch, self.waiting = self.waiting, []
        if not batch:
            return 0
        try:
            if redis_connection().rpush(TOUCHES, *batch) == len(batch):
                schedule_drain(flush_touches)
        except RedisError:
            log.warning(
                "scans not sent yet: Redis unavailable", extra={"fields": {"n": len(batch)}}
            )
            with self.lock:  # keep them for the next try, within reason
                self.waiting = (batch + self.waiting)[-MAX_WAITING:]
            raise
        return len(batch)

    def _run(self) -> None:
        while True:
            self.wake.wait()
            time.sleep(WINDOW)  # let the scans of the next few milliseconds join
            self.wake.clear()
            try:
                self.flush()
            except RedisError:
                time.sleep(1)
                self.wake.set()


_batcher = ScanBatcher()
atexit.register(lambda: _batcher.flush() if _batcher.pid == os.getpid() else None)


def record_scan(code: str, visitor: str, client: str) -> bool:
    """Queue a `link_scan` touch if `code` is live; False (and nothing queued) if not."""
    if code not in _live:
        return False
    _batcher.add(json.dumps(touch_record("link_scan", code=code, visitor=visitor, client=client)))
    return True


def flush_scans() -> int:
    """Send this process's waiting scans now (tests, and anyone who cannot wait `WINDOW`)."""
    return _batcher.flush()


def refresh_live_codes() -> int:
    """Rebuild the shared set, and let this process see it at once."""
    size = rebuild_live_codes()
    _live.forget()
    return size


def sync_codes(codes: list[str]) -> None:
    """After channels or departments changed: amend the shared set; this process sees it now."""
    amend_live_codes(codes)
    _live.forget()
