"""Tokens and codes: access tokens and their daily quota, stable tokens, and the single-use codes
the client side receives (wx.login for jscode2session, the phone button, web OAuth).

Behind api_auth.py and the quota endpoints of api_users.py. OAuth lives here rather than with
the users because it is the same code-then-secret exchange as jscode2session. The token rules
themselves are in tokens.py; this area adds secrets, quotas and codes around them.
"""

import base64
import secrets
import time
from collections import Counter
from dataclasses import replace

from .errors import WeChatError
from .records import App, Code, OAuthGrant, User
from .state_area import Area
from .tokens import TokenBook

TOKEN_PATH = "/cgi-bin/token"
CODE_TTL = 300
OAUTH_TOKEN_TTL = 7200
FORCE_REFRESH_DAILY_LIMIT = 20
FORCE_REFRESH_SPACING = 30
CHINA_UTC_OFFSET = 8 * 3600


class AuthState(Area):
    """Issued tokens, counted calls, issued codes and OAuth grants of every app."""

    def clear(self) -> None:
        """Forget every token, quota count, code and grant (lock held)."""
        self._tokens = TokenBook()
        self._quota: Counter[tuple[str, str, str]] = Counter()
        self._last_forced: dict[str, float] = {}
        self._codes: dict[str, Code] = {}
        self._oauth_users: dict[str, str] = {}
        self._oauth_grants: dict[str, OAuthGrant] = {}

    # -- access tokens and quotas -------------------------------------------------------

    def issue_token(self, appid: str, secret: str) -> tuple[str, int]:
        """`/cgi-bin/token`: (access_token, expires_in), under the daily quota."""
        world = self.world
        with world.lock:
            now = world.clock()
            self._check_secret(appid, secret)
            self._take_quota(appid, TOKEN_PATH, world.config.token_daily_limit, now)
            token = self._tokens.basic(appid, now, world.config.token_ttl, world.config.token_grace)
            return token.value, token.expires_in(now)

    def stable_token(self, appid: str, secret: str, force_refresh: bool) -> tuple[str, int]:
        """`/cgi-bin/stable_token`: (access_token, expires_in)."""
        world = self.world
        with world.lock:
            now = world.clock()
            self._check_secret(appid, secret)
            if force_refresh:
                self._check_force_refresh(appid, now)
            token = self._tokens.stable(
                appid, now, world.config.token_ttl, world.config.token_grace, force_refresh
            )
            return token.value, token.expires_in(now)

    def app_for_token(self, access_token: str) -> App:
        """The app a live access token belongs to (40001 / 42001 otherwise)."""
        with self.world.lock:
            return self.world.app(self._tokens.check(access_token, self.world.clock()).appid)

    def expire_tokens(self, appid: str) -> int:
        """Make the app's tokens expired now (42001 from then on); returns how many."""
        with self.world.lock:
            self.world.app(appid)
            return self._tokens.expire(appid, self.world.clock())

    def clear_quota(self, appid: str) -> None:
        """`/cgi-bin/clear_quota`: forget today's counted calls of the app."""
        with self.world.lock:
            for key in [key for key in self._quota if key[0] == appid]:
                del self._quota[key]

    def quota(self, appid: str, cgi_path: str) -> dict:
        """`/cgi-bin/openapi/quota/get` for the one path with a modelled daily limit."""
        if cgi_path != TOKEN_PATH:
            raise WeChatError(76021)
        with self.world.lock:
            used = self._quota[(appid, cgi_path, _china_day(self.world.clock()))]
            limit = self.world.config.token_daily_limit
            return {"daily_limit": limit, "used": used, "remain": max(0, limit - used)}

    # -- login, phone and OAuth codes ---------------------------------------------------

    def login_code(self, appid: str, openid: str | None = None) -> str:
        """The code `wx.login()` gives the mini-program (the user is created if needed)."""
        with self.world.lock:
            return self._new_code("login", self.world.users.ensure(appid, openid))

    def code_to_session(self, appid: str, secret: str, js_code: str) -> User:
        """`/sns/jscode2session`: redeem a login code; the user gets a new session_key."""
        with self.world.lock:
            self._check_secret(appid, secret)
            code = self._redeem("login", appid, js_code, used_errcode=40163)
            user = self.world.users.live(appid, code.openid)
            user.session_key = base64.b64encode(secrets.token_bytes(16)).decode()
            return replace(user)

    def phone_code(self, appid: str, openid: str, phone: str) -> str:
        """The code the phone-number button gives the mini-program for `phone`."""
        with self.world.lock:
            return self._new_code("phone", self.world.users.ensure(appid, openid), phone=phone)

    def redeem_phone_code(self, appid: str, code: str) -> str:
        """`getuserphonenumber`: the phone number behind a single-use code (40029 otherwise)."""
        with self.world.lock:
            redeemed = self._redeem("phone", appid, code, used_errcode=40029)
            self.world.users.live(appid, redeemed.openid).phone = redeemed.phone
            return redeemed.phone

    def set_oauth_user(self, appid: str, openid: str) -> User:
        """Choose who is "at the phone" when the app's OAuth page is opened."""
        with self.world.lock:
            user = self.world.users.ensure(appid, openid)
            self._oauth_users[appid] = user.openid
            return replace(user)

    def oauth_code(self, appid: str, scope: str, openid: str | None = None) -> str:
        """The code WeChat appends to the OAuth redirect for `openid` or the user at the phone."""
        with self.world.lock:
            chosen = openid or self._oauth_users.get(appid)
            user = self.world.users.ensure(appid, chosen)
            if chosen is None:
                self._oauth_users[appid] = user.openid
            return self._new_code("oauth", user, scope=scope)

    def oauth_access_token(self, appid: str, secret: str, code: str) -> OAuthGrant:
        """`/sns/oauth2/access_token`: redeem an OAuth code."""
        with self.world.lock:
            self._check_secret(appid, secret)
            redeemed = self._redeem("oauth", appid, code, used_errcode=40163)
            grant = OAuthGrant(
                access_token=secrets.token_urlsafe(64),
                refresh_token=secrets.token_urlsafe(64),
                appid=appid,
                openid=redeemed.openid,
                scope=redeemed.scope,
                expires_at=self.world.clock() + OAUTH_TOKEN_TTL,
                unionid=self.world.users.live(appid, redeemed.openid).unionid,
            )
            self._oauth_grants[grant.access_token] = grant
            return grant

    def oauth_userinfo(self, access_token: str, openid: str) -> User:
        """`/sns/userinfo`: the user behind an snsapi_userinfo OAuth token."""
        with self.world.lock:
            grant = self._oauth_grants.get(access_token)
            if grant is None:
                raise WeChatError(40001)
            if self.world.clock() >= grant.expires_at:
                raise WeChatError(42001)
            if grant.scope != "snsapi_userinfo":
                raise WeChatError(48001)
            if openid != grant.openid:
                raise WeChatError(40003)
            return replace(self.world.users.live(grant.appid, grant.openid))

    # -- internals (lock held) ----------------------------------------------------------

    def _check_secret(self, appid: str, secret: str) -> None:
        if self.world.app(appid).secret != secret:
            raise WeChatError(40125)

    def _take_quota(self, appid: str, name: str, limit: int, now: float) -> None:
        key = (appid, name, _china_day(now))
        if self._quota[key] >= limit:
            raise WeChatError(45009)
        self._quota[key] += 1

    def _check_force_refresh(self, appid: str, now: float) -> None:
        last = self._last_forced.get(appid)
        if last is not None and now - last < FORCE_REFRESH_SPACING:
            raise WeChatError(45009)
        self._take_quota(appid, "stable_token force_refresh", FORCE_REFRESH_DAILY_LIMIT, now)
        self._last_forced[appid] = now

    def _new_code(self, kind: str, user: User, **details: str) -> str:
        value = secrets.token_hex(16)
        expires_at = self.world.clock() + CODE_TTL
        self._codes[value] = Code(kind, user.appid, user.openid, expires_at, **details)
        return value

    def _redeem(self, kind: str, appid: str, value: str, used_errcode: int) -> Code:
        code = self._codes.get(value)
        if code is None or code.kind != kind or code.appid != appid:
            raise WeChatError(40029)
        if code.used:
            raise WeChatError(used_errcode)
        if self.world.clock() >= code.expires_at:
            raise WeChatError(40029)
        code.used = True
        return code


def _china_day(now: float) -> str:
    """WeChat's daily quotas reset at midnight Beijing time."""
    return time.strftime("%Y-%m-%d", time.gmtime(now + CHINA_UTC_OFFSET))
