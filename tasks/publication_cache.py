"""The public list's responses, built once per change and served from memory.

A shared list goes viral inside WeChat: thousands of opens a minute must never reach the
database. Every rendered response (the page, the JSON, the share image) is kept in Redis under
the current *generation*, a random token replaced whenever any publication changes
(`invalidate`), and copied into each web process's memory. A request costs a dict lookup; the
process re-reads the generation from Redis at most once per `CHECK_EVERY` seconds, so a change
reaches every process within that time (at once in the process that made it). A response also
carries the moment it stops being true (the window opening or closing), after which it is
rebuilt. A random token, not a counter: a Redis restarted empty can never bring back a
generation some process still holds in memory. Without Redis, responses are built each time.
"""

import gzip
import hashlib
import logging
import secrets
import struct
import time
from collections.abc import Callable
from typing import NamedTuple

from redis import RedisError

from tasks.queue import redis_connection

log = logging.getLogger(__name__)

GENERATION = "publication:generation"
ENTRY = "publication:cache:{generation}:{key}"
CHECK_EVERY = 1.0
KEEP_SECONDS = 24 * 3600
HEADER = struct.Struct(">dI")
MAX_LOCAL = 1000  # responses kept per process (a few per published version in practice)
COMPRESS_ABOVE = 1024  # bytes; the gzip copy of anything smaller is not worth keeping


class Cached(NamedTuple):
    body: bytes
    etag: str
    mimetype: str
    expires: float  # epoch seconds after which it must be rebuilt
    status: int = 200
    gzipped: bytes = b""  # the body gzip-compressed once (WeChat's browser accepts gzip)


def make(body: bytes, mimetype: str, expires: float, status: int) -> Cached:
    """A response to keep: its ETag and, for larger text bodies, its gzip copy."""
    compress = len(body) > COMPRESS_ABOVE and not mimetype.startswith("image/")
    gzipped = gzip.compress(body, compresslevel=6, mtime=0) if compress else b""
    return Cached(body, etag_of(body), mimetype, expires, status, gzipped)


_local: dict[str, Cached] = {}
_generation: str | None = None
_checked_at = 0.0


def _current_generation() -> str:
    """The generation, read from Redis at most once per CHECK_EVERY seconds."""
    global _generation, _checked_at
    now = time.monotonic()
    if _generation is not None and now - _checked_at < CHECK_EVERY:
        return _generation
    redis = redis_connection()
    value = redis.get(GENERATION)
    if value is None:
        redis.set(GENERATION, secrets.token_hex(8), nx=True)
        value = redis.get(GENERATION)
    value = value.decode()
    if value != _generation:
        _local.clear()
        _generation = value
    _checked_at = now
    return value


def invalidate() -> None:
    """A publication changed: every response is rebuilt on its next request."""
    global _generation
    _local.clear()
    _generation = None
    try:
        redis_connection().set(GENERATION, secrets.token_hex(8))
    except RedisError:
        log.warning("publication cache not invalidated: Redis unavailable")


def etag_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:24]


def fetch(key: str, build: Callable[[], tuple[bytes, str, float, int]]) -> Cached:
    """The response `key` (e.g. `page:current`); `build()` → (body, mimetype, expires, status)
    runs only when neither this process nor Redis holds it for the current generation."""
    wall = time.time()
    try:
        generation = _current_generation()
    except RedisError:
        return make(*build())
    hit = _local.get(key)
    if hit is not None and hit.expires > wall:
        return hit
    redis = redis_connection()
    name = ENTRY.format(generation=generation, key=key)
    stored = redis.get(name)
    if stored is not None:
        cached = _decode(stored)
        if cached.expires > wall:
            _local[key] = cached
            return cached
    cached = make(*build())
    if cached.status != 200 and not key.endswith(":current"):
        return cached  # a made-up id is answered, never kept: ids cannot fill the memory
    if len(_local) >= MAX_LOCAL:
        _local.clear()
    keep = max(1, min(KEEP_SECONDS, int(cached.expires - wall)))
    redis.set(name, _encode(cached), ex=keep)
    if generation == _generation:  # not invalidated while building
        _local[key] = cached
    return cached


def peek(key: str) -> Cached | None:
    """This process's live copy of `key`, or None: never builds, never reads the database (the
    generation check is at most one Redis GET per CHECK_EVERY seconds)."""
    try:
        _current_generation()
    except RedisError:
        return None
    hit = _local.get(key)
    return hit if hit is not None and hit.expires > time.time() else None


def _encode(cached: Cached) -> bytes:
    head = f"{cached.status}\n{cached.etag}\n{cached.mimetype}\n".encode()
    return HEADER.pack(cached.expires, len(cached.body)) + head + cached.body + cached.gzipped


def _decode(raw: bytes) -> Cached:
    expires, size = HEADER.unpack_from(raw)
    status, etag, mimetype, rest = raw[HEADER.size :].split(b"\n", 3)
    body, gzipped = rest[:size], rest[size:]
    return Cached(body, etag.decode(), mimetype.decode(), expires, int(status), gzipped)
