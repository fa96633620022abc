"""A token bucket in Redis that every worker shares, so the configured send rate holds across
all processes and hosts (RELIABILITY-NOTES §4.3).

One Lua script refills and takes atomically, on Redis' own clock (one clock for every host).
A caller that finds the bucket empty may take a token "on credit": the bucket goes negative
and the caller sleeps exactly until its token exists, so sleeping late never loses a token
and nobody polls. Credit is capped (`max_wait`), so a crowd of workers cannot book far ahead.
With capacity 1 the sends are spaced 1/rate apart: the rate is never exceeded, not even in a
burst. The bucket runs 1% under the rate it is given, so that a few milliseconds of jitter
between the workers and WeChat cannot make WeChat see more than that rate.
"""

import time

from redis import Redis

HEADROOM = 0.99

# KEYS[1] bucket. ARGV: rate (tokens/s), capacity, max_wait (s).
# Returns {granted 0|1, seconds to sleep, the moment booked} (strings: Lua numbers would lose
# their fraction on the way out).
_TAKE = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or capacity
local at = tonumber(bucket[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate) - 1
local wait = 0
if tokens < 0 then wait = -tokens / rate end
if wait > max_wait then return {0, tostring(wait - max_wait), ''} end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 60000)
return {1, tostring(wait), string.format('%.6f', now + wait)}
"""


class TokenBucket:
    """`rate` tokens per second shared through `key`; rate 0 means no limit."""

    def __init__(
        self, redis: Redis, key: str, rate: float, capacity: float = 1.0, max_wait: float = 5.0
    ):
        self.key = key
        self.rate = rate * HEADROOM
        self.capacity = max(capacity, 1.0)
        self.max_wait = max_wait
        self._take = redis.register_script(_TAKE)

    def take(self) -> float | None:
        """Block until a token is ours; return the moment it was booked for, in seconds on
        Redis' clock (the bucket's schedule, which late wake-ups cannot blur), or None
        when there is no limit."""
        if self.rate <= 0:
            return None
        while True:
            granted, wait, booked = self._take(
                keys=[self.key], args=[self.rate, self.capacity, self.max_wait]
            )
            pause = float(wait)
            if pause > 0:
                time.sleep(pause)
            if int(granted):
                return float(booked)
