"""A fixed-window request limit shared by every web process (public forms, e.g. objections).

`tasks.ratelimit.TokenBucket` paces senders by making them wait; a public form must instead
answer "too many" at once. One Lua call counts and sets the window's expiry atomically, on
Redis' clock, so the limit holds across processes and hosts.
"""

from redis import Redis

# KEYS[1] counter. ARGV: window (ms). Returns the count in the current window.
_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
"""


class FixedWindow:
    """At most `limit` hits per `seconds` for each key under `prefix`."""

    def __init__(self, redis: Redis, prefix: str, limit: int, seconds: int):
        self.prefix = prefix
        self.limit = limit
        self.window_ms = seconds * 1000
        self._hit = redis.register_script(_HIT)

    def allow(self, key: str) -> bool:
        """Count one hit for `key`; False once the window's limit is passed."""
        count = self._hit(keys=[f"{self.prefix}:{key}"], args=[self.window_ms])
        return int(count) <= self.limit
