"""The Redis connection and the RQ queues, built once per process.

Redis is a transport, never the record of an outcome: anything that must not be lost has
a database row before its job is enqueued (RELIABILITY-NOTES §0).
"""

from redis import Redis
from redis.sentinel import Sentinel
from rq import Queue

QUEUE_NAMES = ("default", "notices")

# Outcomes live in the database; RQ's copies are only for looking at. Bounded, so a
# `noeviction` Redis never fills up with finished or failed jobs (issue 11).
RESULT_TTL = 3600
FAILURE_TTL = 7 * 24 * 3600

_connection: Redis | None = None


def init_redis(url: str, socket_timeout: float | None = 5.0, sentinel=None) -> Redis:
    """Connect once; web processes use a socket timeout, workers block on dequeue.

    With `sentinel` (hosts, master name, password) the connection asks the sentinels where
    the primary is, and asks again after a failover: the first command after it fails with a
    ConnectionError (a 503 to a request, a retry to a worker), the next ones reach the new
    primary. The database number is the one in `url`."""
    global _connection
    options = {"socket_connect_timeout": 2, "socket_timeout": socket_timeout}
    if sentinel:
        hosts, master, password = sentinel
        db = Redis.from_url(url).connection_pool.connection_kwargs.get("db", 0) if url else 0
        watchers = Sentinel(list(hosts), sentinel_kwargs={"socket_timeout": 1}, **options)
        _connection = watchers.master_for(
            master, db=db, password=password or None, health_check_interval=30
        )
        return _connection
    _connection = Redis.from_url(url, health_check_interval=30, **options)
    return _connection


def redis_connection() -> Redis:
    if _connection is None:
        raise RuntimeError("Redis is not initialised: call runtime.bootstrap() first")
    return _connection


class BoundedQueue(Queue):
    """A queue whose every job (enqueue, enqueue_at, enqueue_in) has a result and a failure
    TTL: a caller may choose its own, nobody gets RQ's unbounded failure default."""

    def create_job(self, *args, **kwargs):
        if kwargs.get("result_ttl") is None:
            kwargs["result_ttl"] = RESULT_TTL
        if kwargs.get("failure_ttl") is None:
            kwargs["failure_ttl"] = FAILURE_TTL
        return super().create_job(*args, **kwargs)


def require_queue() -> None:
    """Raise redis' ConnectionError (answered 503) unless Redis answers now: call it before
    a write whose follow-up work must be enqueued, so an outage refuses instead of half-doing."""
    redis_connection().ping()


def get_queue(name: str = "default") -> Queue:
    """One of `QUEUE_NAMES`, on the shared connection, with bounded job TTLs."""
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}")
    return BoundedQueue(name, connection=redis_connection())
