"""Touch recording on hot paths (one Redis append) and the job that persists them.

A crash between writing a batch and trimming it off the buffer can duplicate at most one
batch of touches, never lose one (tasks/buffers.py).
"""

import datetime
import logging
import time

from peewee import OperationalError

from campaign.channels.scan_repeats import drop_repeat_scans
from campaign.channels.touches import persist_touches
from config import current_settings
from models import db
from tasks.buffers import append, drain

BUFFER = "touches:buffer"
LOCKED_RETRIES = 6  # waits 0.1 + 0.2 + … + 3.2 s: 6.3 s beyond SQLite's own busy timeout
log = logging.getLogger(__name__)


def retry_when_locked(handle):
    """`handle`, retried when SQLite says "database is locked".

    SQLite's busy timeout does not cover a deferred transaction that read first and then
    finds another writer committed meanwhile (WAL snapshot conflict): that fails at once.
    The batch's transaction rolled back whole and the buffer is trimmed only after success
    (tasks/buffers.py), so running it again is safe. PostgreSQL never raises this."""

    def attempt(batch):
        for retry in range(LOCKED_RETRIES + 1):
            try:
                return handle(batch)
            except OperationalError as error:
                if "database is locked" not in str(error) or retry == LOCKED_RETRIES:
                    raise
                log.warning("touches: database is locked; retrying", extra={"fields": {"n": retry}})
                time.sleep(0.1 * 2**retry)

    return attempt


def record_touch(record: dict) -> None:
    """Buffer one touch record (see campaign.channels.touches.touch_record)."""
    append(BUFFER, record, flush_touches)


@db.connection_context()
def flush_touches() -> int:
    """Persist everything buffered (repeat scans counted once); return touches written."""
    window = datetime.timedelta(minutes=current_settings().scan_repeat_minutes)
    return drain(
        BUFFER, retry_when_locked(lambda batch: persist_touches(drop_repeat_scans(batch, window)))
    )
