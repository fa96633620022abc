"""Request rate limits in Redis: a fixed-window counter shared by every web process.

One Lua script increments and reads the window atomically, on Redis' clock, so parallel
requests cannot slip past a limit by reading the same old count (the lockout race of
issue 11). Fixed windows allow a burst of up to twice the limit across a window boundary
(RELIABILITY-NOTES §4.3); for the abuse these limits stop (floods of logins, uploads,
scans) that is acceptable, and the counter costs one round trip.

`tasks.ratelimit.TokenBucket` is the other kind: it paces our own sends to WeChat and waits
instead of refusing.
"""

import hashlib
from dataclasses import dataclass

from tasks.queue import LuaScript, redis_connection

# KEYS[1] counter. ARGV: limit, window (ms). Returns {count, milliseconds left in the window}.
_HIT = LuaScript("""
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  left = tonumber(ARGV[2])
end
return {count, left}
""")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    retry_after: int  # seconds until the window ends


def hit(key: str, limit: int, window: int) -> Verdict:
    """Count one event under `key`; allowed while at most `limit` happened in `window` s.

    A limit of 0 or less means no limit (and no Redis round trip)."""
    if limit <= 0:
        return Verdict(True, 0, 0)
    count, left = _HIT(keys=[f"limit:{key}"], args=[limit, window * 1000])
    return Verdict(int(count) <= limit, int(count), max(1, -(-int(left) // 1000)))


def reset(key: str) -> None:
    redis_connection().delete(f"limit:{key}")


def identity_key(kind: str, identity: str) -> str:
    """A key naming an identity (a username, an openid) without storing it in clear."""
    digest = hashlib.sha256(identity.strip().lower().encode()).hexdigest()[:32]
    return f"{kind}:{digest}"
