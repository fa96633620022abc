"""The Redis connection and the RQ queues, built once per process.

Redis is a transport, never the record of an outcome: anything that must not be lost has
a database row before its job is enqueued (RELIABILITY-NOTES §0).
"""

from redis import Redis
from rq import Queue

QUEUE_NAMES = ("default", "notices")

_connection: Redis | None = None


def init_redis(url: str, socket_timeout: float | None = 5.0) -> Redis:
    """Connect once; web processes use a socket timeout, workers block on dequeue."""
    global _connection
    _connection = Redis.from_url(
        url, socket_connect_timeout=2, socket_timeout=socket_timeout, health_check_interval=30
    )
    return _connection


def redis_connection() -> Redis:
    if _connection is None:
        raise RuntimeError("Redis is not initialised: call runtime.bootstrap() first")
    return _connection


def get_queue(name: str = "default") -> Queue:
    """One of `QUEUE_NAMES`, on the shared connection."""
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=redis_connection())
