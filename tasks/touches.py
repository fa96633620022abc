"""Touch recording on hot paths (one Redis append) and the job that persists them.

The first append into an empty buffer enqueues a flush; the periodic schedule flushes
too, so a lost job only delays touches. One flusher at a time (a Redis lock): it reads a
batch, writes it in one transaction, then trims it off the buffer. A crash between the
write and the trim can duplicate at most one batch of touches, never lose one.
"""

import json

from campaign.touches import persist_touches
from models import db
from tasks.queue import get_queue, redis_connection

BUFFER = "touches:buffer"
BATCH = 1000


def record_touch(record: dict) -> None:
    """Append one touch record; enqueue a flush if the buffer was empty."""
    if redis_connection().rpush(BUFFER, json.dumps(record)) == 1:
        get_queue("default").enqueue(flush_touches, job_timeout=300)


@db.connection_context()
def flush_touches() -> int:
    """Persist everything buffered; return the number of touches written."""
    redis = redis_connection()
    written = 0
    with redis.lock("touches:flush-lock", timeout=600, blocking_timeout=60):
        while raw := redis.lrange(BUFFER, 0, BATCH - 1):
            written += persist_touches([json.loads(item) for item in raw])
            redis.ltrim(BUFFER, len(raw), -1)
    return written
