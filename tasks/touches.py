"""Touch recording on hot paths (one Redis append) and the job that persists them.

A crash between writing a batch and trimming it off the buffer can duplicate at most one
batch of touches, never lose one (tasks/buffers.py).
"""

import datetime

import runtime
from campaign.scan_repeats import drop_repeat_scans
from campaign.touches import persist_touches
from models import db
from tasks.buffers import append, drain

BUFFER = "touches:buffer"


def record_touch(record: dict) -> None:
    """Buffer one touch record (see campaign.touches.touch_record)."""
    append(BUFFER, record, flush_touches)


@db.connection_context()
def flush_touches() -> int:
    """Persist everything buffered (repeat scans counted once); return touches written."""
    window = datetime.timedelta(minutes=runtime.settings().scan_repeat_minutes)
    return drain(BUFFER, lambda batch: persist_touches(drop_repeat_scans(batch, window)))
