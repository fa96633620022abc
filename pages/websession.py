"""Cookie sessions, CSRF and security headers for server-rendered pages (console, later H5).

The cookie carries one of the server-side tokens of `campaign.sessions` (only its hash is
stored), so logout and "sign out everywhere" revoke it exactly like an API token. On top:
- an absolute expiry (the token's), and an idle expiry kept in Redis (a key per session,
  its TTL refreshed on every request; Redis emptied means signing in again, nothing worse);
- a per-browser nonce cookie, which binds the CSRF token before sign-in and the QR login
  code to the browser that asked for it;
- a CSRF token, an HMAC of the session (or nonce) under the app's secret: no storage, and
  it changes at sign-in. Every POST/PUT/PATCH/DELETE must carry it in the `csrf_token` form
  field or the `X-CSRF-Token` header (htmx sends it from `hx-headers` on <body>);
- a Content-Security-Policy with no inline script and `frame-ancestors 'none'`.

`install(blueprint, prefix)` wires all of it into a blueprint's request hooks.
"""

import datetime
import hashlib
import hmac
import secrets

from flask import Blueprint, current_app, g, request

from api.errors import ApiError
from campaign.sessions import account_of, issue_token, live_session, revoke_all, revoke_token
from config import current_settings
from models import Account, AuthSession, WechatUser
from tasks.queue import redis_connection

IDLE = datetime.timedelta(minutes=30)
ABSOLUTE = datetime.timedelta(hours=12)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # ECharts and htmx set element styles
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


class CookieNames:
    """The two cookies of one area (the console today, H5 pages later)."""

    def __init__(self, prefix: str, path: str):
        self.session = f"{prefix}_session"
        self.nonce = f"{prefix}_nonce"
        self.path = path


def _idle_key(token: str) -> str:
    return "websession:idle:" + hashlib.sha256(token.encode()).hexdigest()


def _secure() -> bool:
    return current_settings().production


def install(bp: Blueprint, prefix: str, path: str) -> None:
    """Cookie session, nonce, CSRF check and security headers on every request of `bp`."""
    names = CookieNames(prefix, path)

    @bp.before_request
    def _open():
        if request.endpoint and request.endpoint.endswith(".static"):
            return  # vendored files: no session, no cookie, no database
        g.web_names = names
        g.web_nonce = request.cookies.get(names.nonce, "")
        g.web_new_nonce = None
        if not g.web_nonce or len(g.web_nonce) > 64:
            g.web_nonce = g.web_new_nonce = secrets.token_urlsafe(32)
        g.web_token = request.cookies.get(names.session, "")
        g.web_session = _open_session(g.web_token)
        if request.method not in SAFE_METHODS:
            check_csrf()

    @bp.after_request
    def _close(response):
        if "web_names" not in g:
            return security_headers(response)
        if g.get("web_new_nonce"):
            response.set_cookie(
                names.nonce,
                g.web_new_nonce,
                max_age=86400,
                path=names.path,
                httponly=True,
                secure=_secure(),
                samesite="Lax",
            )
        if g.get("web_token") and g.get("web_session") is None:
            response.delete_cookie(names.session, path=names.path)
        return security_headers(response)


def _open_session(token: str) -> AuthSession | None:
    if not token:
        return None
    session = live_session(token)
    if session is None:
        return None
    redis = redis_connection()
    if not redis.expire(_idle_key(token), int(IDLE.total_seconds())):
        revoke_token(token)  # idle too long: the token is no use any more
        return None
    if session.account_id and account_of(session) is None:
        return None  # an account switched off holds no session, here as in the API
    return session


def holder() -> Account | WechatUser | None:
    """The signed-in console account or WeChat user of this request."""
    session = g.get("web_session")
    if session is None:
        return None
    return session.account if session.account_id else session.user


def begin(response, who: Account | WechatUser) -> None:
    """Sign this browser in as `who`: a fresh token in an HttpOnly cookie."""
    old = g.get("web_token")
    if old:
        revoke_token(old)
    token, _ = issue_token(who, lifetime=ABSOLUTE)
    redis_connection().set(_idle_key(token), "1", ex=int(IDLE.total_seconds()))
    g.web_token = token
    g.web_session = live_session(token)
    names = g.web_names
    response.set_cookie(
        names.session,
        token,
        max_age=int(ABSOLUTE.total_seconds()),
        path=names.path,
        httponly=True,
        secure=_secure(),
        samesite="Lax",
    )


def end(response, everywhere: bool = False) -> int:
    """Sign out this browser, or every session of its holder; how many were revoked."""
    who = holder()
    count = 0
    if everywhere and who is not None:
        count = revoke_all(who)
    elif g.get("web_token"):
        count = int(revoke_token(g.web_token))
    if g.get("web_token"):
        redis_connection().delete(_idle_key(g.web_token))
    g.web_session = None
    response.delete_cookie(g.web_names.session, path=g.web_names.path)
    return count


def nonce() -> str:
    """This browser's nonce (set as a cookie on the response if it is new)."""
    return g.web_nonce


def csrf_token() -> str:
    """The token forms and htmx must send back with every state change."""
    binding = g.web_token if g.get("web_session") is not None else "nonce:" + g.web_nonce
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"csrf|{binding}".encode(), hashlib.sha256).hexdigest()


def check_csrf() -> None:
    """403 `csrf_failed` unless the request carries this browser's CSRF token."""
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    if g.web_new_nonce or not sent or not hmac.compare_digest(sent, csrf_token()):
        raise ApiError(403, "csrf_failed", "页面已过期或来源不明，请刷新页面后重试")


def security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response
