"""Touch recording on hot paths (one Redis append) and the job that persists them.

A crash between writing a batch and trimming it off the buffer can duplicate at most one
batch of touches, never lose one (tasks/buffers.py).
"""

from campaign.channels.touches import persist_touches
from models import db
from tasks.buffers import append, drain

BUFFER = "touches:buffer"


def record_touch(record: dict) -> None:
    """Buffer one touch record (see campaign.channels.touches.touch_record)."""
    append(BUFFER, record, flush_touches)


@db.connection_context()
def flush_touches() -> int:
    """Persist everything buffered; return the number of touches written."""
    return drain(BUFFER, persist_touches)
