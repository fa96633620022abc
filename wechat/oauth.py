"""Official-account web OAuth for H5 pages inside WeChat (DESIGN §6 "Identity").

The `state` parameter is both the CSRF guard and the channel carrier: it holds the
channel code, a time and a nonce, signed with SECRET_KEY, and the nonce must match a
cookie set on the same browser when the flow started. WeChat limits `state` to 128 bytes,
so it is a compact HMAC, not a serialized blob.
"""

import base64
import hashlib
import hmac
import secrets
import time

from wechatpy.oauth import WeChatOAuth

from config import WechatApp
from wechat.client import mount_transport

STATE_MAX_AGE = 600


class BadState(ValueError):
    """The state is forged, expired or from another browser."""


def _mac(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def make_state(secret: str, code: str | None, now: float | None = None) -> tuple[str, str]:
    """A signed state carrying `code`, and the nonce to keep in a cookie."""
    nonce = secrets.token_urlsafe(9)
    payload = f"{code or '-'}.{int(now or time.time()):x}.{nonce}"
    return f"{payload}.{_mac(secret, payload)}", nonce


def read_state(secret: str, state: str, nonce: str, now: float | None = None) -> str | None:
    """The channel code inside a valid state (None if it carried none); else BadState."""
    parts = (state or "").split(".")
    if len(parts) != 4:
        raise BadState("malformed")
    code, issued, state_nonce, mac = parts
    if not hmac.compare_digest(_mac(secret, ".".join(parts[:3])), mac):
        raise BadState("signature")
    if not nonce or not hmac.compare_digest(state_nonce, nonce):
        raise BadState("nonce")
    try:
        age = (now or time.time()) - int(issued, 16)
    except ValueError as exc:
        raise BadState("time") from exc
    if not 0 <= age <= STATE_MAX_AGE:
        raise BadState("expired")
    return None if code == "-" else code


def oauth_client(app: WechatApp, api_base: str, redirect_uri: str, state="", scope="snsapi_base"):
    """A wechatpy WeChatOAuth for one flow (it keeps per-user state: never share one)."""
    oauth = WeChatOAuth(app.appid, app.secret, redirect_uri, scope=scope, state=state)
    if api_base:
        oauth.OAUTH_BASE_URL = f"{api_base}/connect/"
    mount_transport(oauth._http, api_base)
    return oauth


def exchange_code(oauth: WeChatOAuth, code: str) -> dict:
    """`sns/oauth2/access_token`: openid (and unionid); the nickname too for snsapi_userinfo."""
    answer = oauth.fetch_access_token(code)
    identity = {"openid": answer["openid"], "unionid": answer.get("unionid")}
    if answer.get("scope") == "snsapi_userinfo":
        identity["nickname"] = oauth.get_user_info().get("nickname")
    return identity
