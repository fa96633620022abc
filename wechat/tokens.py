"""Access tokens shared by every process through Redis (DESIGN §6 "Access tokens").

Fetched with `stable_token` (the same token until its last five minutes; `/cgi-bin/token`
would kill the previous token on every fetch and is capped at ~2,000 a day), refreshed under
a Redis lock and re-read after taking it, and expired only if the cached token is the one
that failed (compare-and-delete), so a slow worker cannot throw away a fresh token.

Each process reuses the token it last read for up to `MEMO_SECONDS` instead of asking Redis
before every call (two round trips per notice send were a ninth of its cost). That is safe:
the Redis copy itself expires `REFRESH_MARGIN` before WeChat's expiry, and a token another
process replaced meanwhile stays valid until its own expiry (normal-mode stable_token issues a
new one only in the old one's last five minutes); should WeChat refuse it anyway (a forced
refresh, a reset sandbox), the one retry after `invalidate` takes the new one.
"""

import logging
import time

import requests
from redis import Redis
from wechatpy.exceptions import WeChatClientException

log = logging.getLogger(__name__)

# Delete the key only if it still holds the token that failed.
_COMPARE_AND_DELETE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

REFRESH_MARGIN = 120  # seconds before WeChat's expiry that we stop using a token
MEMO_SECONDS = 1.0  # how long a process reuses the token it last read


class TokenError(WeChatClientException):
    """WeChat refused to issue a token (bad secret, IP whitelist, quota…).

    A WeChatClientException, so every caller that handles WeChat's errors handles it too.
    """

    def __init__(self, errcode, errmsg):
        super().__init__(errcode, f"WeChat refused an access token: {errmsg}")


class TokenStore:
    """The current access token of one app, cached in Redis for all processes."""

    def __init__(self, redis: Redis, appid: str, secret: str, http: requests.Session, base: str):
        self.redis = redis
        self.appid = appid
        self.secret = secret
        self.http = http
        self.url = f"{base or 'https://api.weixin.qq.com'}/cgi-bin/stable_token"
        self.key = f"wechat:token:{appid}"
        self._delete_if_equal = redis.register_script(_COMPARE_AND_DELETE)
        self._memo = ("", 0.0)  # (token, monotonic time until which it is reused)

    def get(self) -> str:
        """The cached token, or a fetched one (one fetch at a time across all processes)."""
        token, until = self._memo
        if token and time.monotonic() < until:
            return token
        cached = self.redis.get(self.key)
        if cached:
            return self._remember(cached.decode())
        with self.redis.lock(f"{self.key}:lock", timeout=30, blocking_timeout=35):
            cached = self.redis.get(self.key)
            if cached:
                return self._remember(cached.decode())
            return self._remember(self._fetch_and_store(force_refresh=False))

    def invalidate(self, failed_token: str) -> str:
        """Drop `failed_token` if it is still cached, and return a token to retry with."""
        self.forget()
        self._delete_if_equal(keys=[self.key], args=[failed_token])
        with self.redis.lock(f"{self.key}:lock", timeout=30, blocking_timeout=35):
            cached = self.redis.get(self.key)
            if cached and cached.decode() != failed_token:
                return self._remember(cached.decode())
            token = self._fetch_and_store(force_refresh=False)
            if token == failed_token:
                # stable_token still hands out the rejected token: ask for a new one.
                token = self._fetch_and_store(force_refresh=True)
            return self._remember(token)

    def forget(self) -> None:
        """Ask Redis again on the next call (after a refusal, or when Redis was emptied)."""
        self._memo = ("", 0.0)

    def _remember(self, token: str) -> str:
        self._memo = (token, time.monotonic() + MEMO_SECONDS)
        return token

    def _fetch_and_store(self, force_refresh: bool) -> str:
        body = {
            "grant_type": "client_credential",
            "appid": self.appid,
            "secret": self.secret,
            "force_refresh": force_refresh,
        }
        result = self.http.post(self.url, json=body, timeout=(3.05, 10)).json()
        if not result.get("access_token"):
            raise TokenError(result.get("errcode"), result.get("errmsg"))
        ttl = max(int(result.get("expires_in", 7200)) - REFRESH_MARGIN, 30)
        self.redis.set(self.key, result["access_token"], ex=ttl)
        log.info("fetched access token", extra={"fields": {"appid": self.appid, "ttl": ttl}})
        return result["access_token"]
