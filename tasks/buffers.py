"""Redis lists as write buffers in front of the database, for the hot paths.

A hot path appends one JSON record (one round trip); the first record into an empty list
enqueues a drain job, and the periodic schedule drains too, so a lost job only delays
records. One drainer at a time per list (a Redis lock): it reads a batch, hands it to the
database, then trims it off. A crash between the two hands the same batch over again, so
handlers must be idempotent or tolerate a repeated batch.
"""

import json
from collections.abc import Callable

from tasks.queue import get_queue, redis_connection

BATCH = 1000


def append(key: str, record: dict, drain_job: Callable) -> None:
    """Append `record`; enqueue `drain_job` if the list was empty."""
    if redis_connection().rpush(key, json.dumps(record, ensure_ascii=False)) == 1:
        schedule_drain(drain_job)


def schedule_drain(drain_job: Callable) -> None:
    get_queue("default").enqueue(drain_job, job_timeout=300)


def drain(key: str, handle: Callable[[list[dict]], int]) -> int:
    """Hand every buffered record to `handle` in batches; return what it reported."""
    redis = redis_connection()
    total = 0
    with redis.lock(f"{key}:lock", timeout=600, blocking_timeout=60):
        while raw := redis.lrange(key, 0, BATCH - 1):
            total += handle([json.loads(item) for item in raw])
            redis.ltrim(key, len(raw), -1)
    return total
