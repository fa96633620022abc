"""Access-token rules: the two isolated token lineages WeChat keeps for every app.

`/cgi-bin/token` ("basic") issues a new token on every call and lets the previous one live only
`grace` more seconds. `/cgi-bin/stable_token` ("stable") hands back the same token until its last
five minutes, then issues a new one while the old lives on to its own expiry; a forced refresh
issues a new one and kills the previous one after `grace`. The lineages never affect each other.
No locking here: `SandboxState` calls in under its lock, passing the time.
"""

import secrets
from dataclasses import dataclass

from .errors import WeChatError

BASIC = "basic"
STABLE = "stable"
STABLE_PREREFRESH = 300


@dataclass
class AccessToken:
    """One issued token; `dies_at` is set once a newer token of its lineage superseded it."""

    value: str
    appid: str
    lineage: str
    expires_at: float
    dies_at: float | None = None

    def expires_in(self, now: float) -> int:
        """Whole seconds left, as WeChat's `expires_in` reports them."""
        return max(0, int(self.expires_at - now))


class TokenBook:
    """Every token the sandbox issued, and the latest one per (app, lineage)."""

    def __init__(self):
        self._tokens: dict[str, AccessToken] = {}
        self._latest: dict[tuple[str, str], AccessToken] = {}

    def basic(self, appid: str, now: float, ttl: float, grace: float) -> AccessToken:
        """A new `/cgi-bin/token` token; the previous one dies after `grace` seconds."""
        return self._issue(appid, BASIC, now, ttl, kill_previous_after=grace)

    def stable(self, appid: str, now: float, ttl: float, grace: float, force: bool) -> AccessToken:
        """The `/cgi-bin/stable_token` answer (the caller has already rate-limited `force`)."""
        if force:
            return self._issue(appid, STABLE, now, ttl, kill_previous_after=grace)
        latest = self._latest.get((appid, STABLE))
        if latest and latest.expires_at - now > STABLE_PREREFRESH:
            return latest
        return self._issue(appid, STABLE, now, ttl, kill_previous_after=None)

    def check(self, value: str, now: float) -> AccessToken:
        """The live token for `value`, or WeChat's 40001 (unknown, superseded) / 42001 (expired)."""
        token = self._tokens.get(value)
        if token is None or (token.dies_at is not None and now >= token.dies_at):
            raise WeChatError(40001)
        if now >= token.expires_at:
            raise WeChatError(42001)
        return token

    def expire(self, appid: str, now: float) -> int:
        """Make every token of an app expired now; returns how many were still unexpired."""
        live = [t for t in self._tokens.values() if t.appid == appid and t.expires_at > now]
        for token in live:
            token.expires_at = now
        return len(live)

    def _issue(
        self, appid: str, lineage: str, now: float, ttl: float, kill_previous_after: float | None
    ) -> AccessToken:
        previous = self._latest.get((appid, lineage))
        if previous and kill_previous_after is not None and previous.dies_at is None:
            previous.dies_at = now + kill_previous_after
        token = AccessToken(secrets.token_urlsafe(96), appid, lineage, now + ttl)
        self._tokens[token.value] = token
        self._latest[(appid, lineage)] = token
        return token
