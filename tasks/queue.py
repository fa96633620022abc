"""The Redis connection and the RQ queues, built once per process.

Redis is a transport, never the record of an outcome: anything that must not be lost has
a database row before its job is enqueued (RELIABILITY-NOTES §0).
"""

import hashlib
import os
import threading

from redis import Redis
from redis import exceptions as redis_errors
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


class LuaScript:
    """A Lua script run on this process's shared connection (`redis_connection()`), the way
    a module runs one there. (An object handed a client of its own, `TokenBucket` and
    `TokenStore`, registers its script on that client instead.)

    It goes over one connection this process keeps checked out of the pool (`_HeldLine`):
    on the hottest paths (a WeChat push, a login's rate limit) redis-py's own way for each
    command (a pool checkout and release, its retry and observability wrappers) was a third
    of a call's client CPU (85–106 → 50–70 µs for the push's script, docs/deploy.md). What
    redis-py does for a command still happens: the pool's check that the server has not
    closed the connection, the health check, the connection's Retry policy, reconnecting
    (through the sentinels after a failover, READONLY included), and NOSCRIPT answered by
    loading the script."""

    def __init__(self, source: str):
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    def __call__(self, keys: list, args: list):
        client = redis_connection()
        connection = _line.take(client)
        if connection is None:  # another thread holds the line, or a forked child
            return self._ordinary(client, keys, args)
        try:
            return connection.retry.call_with_retry(
                lambda: self._run(connection, keys, args), lambda error: connection.disconnect()
            )
        except redis_errors.NoScriptError:  # Redis restarted or promoted: the ordinary way loads it
            return self._ordinary(client, keys, args)
        finally:
            _line.give_back()

    def _ordinary(self, client: Redis, keys: list, args: list):
        """redis-py's own way: a pooled connection for the call, NOSCRIPT answered by loading."""
        return client.register_script(self.source)(keys=keys, args=args)

    def _run(self, connection, keys: list, args: list):
        try:
            connection.send_command("EVALSHA", self.sha, len(keys), *keys, *args)
            return connection.read_response()
        except redis_errors.ResponseError:
            raise  # an answer, read whole: the connection is in step
        except BaseException:  # cut off mid-reply (a signal): a late answer must not be
            connection.disconnect()  # read by the next caller (redis-py's Sentinel
            raise  # connections keep the socket then)


class _HeldLine:
    """One pooled connection, kept by this process for `LuaScript`, one caller at a time.

    A caller that finds it taken (another thread of a threaded server) is told to go the
    ordinary way instead of waiting. A forked child (an RQ work-horse, which lives for one
    job) always goes the ordinary way: it must not touch its parent's socket, and a
    connection of its own beside the pool's would cost it one more connect. A new shared
    client (tests re-initialise) gets the old connection back into its pool."""

    def __init__(self):
        self._lock = threading.Lock()
        self._client = self._connection = None
        self._forked = False

    def take(self, client: Redis):
        if self._forked or not self._lock.acquire(blocking=False):
            return None
        try:
            if self._client is not client:
                self._hold(client)
            self._ready()
        except BaseException:
            self._lock.release()
            raise
        return self._connection

    def give_back(self) -> None:
        self._lock.release()

    def forget_in_child(self) -> None:
        """After a fork, in the child: the parent's connection and lock are not the child's."""
        self._lock = threading.Lock()
        self._client = self._connection = None
        self._forked = True

    def _ready(self) -> None:
        """What the pool checks on every connection it hands out (`get_connection`): opened
        once; one the server closed (a restart, an idle timeout), or one still pointing at a
        primary the pool has learned is no longer the primary, is opened again before
        anything is sent on it."""
        connection = self._connection
        if not self._client.connection_pool.owns_connection(connection):
            connection.disconnect()
        connection.connect()
        try:
            if connection.can_read():
                raise redis_errors.ConnectionError("Connection has data")
        except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError):
            connection.disconnect()
            connection.connect()
            if connection.can_read():
                raise redis_errors.ConnectionError("Connection not ready") from None

    def _hold(self, client: Redis) -> None:
        if self._connection is not None:
            self._client.connection_pool.release(self._connection)
        self._client = self._connection = None
        self._connection = client.connection_pool.get_connection()
        self._client = client


_line = _HeldLine()
os.register_at_fork(after_in_child=_line.forget_in_child)


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
