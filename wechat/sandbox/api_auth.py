"""WeChat's credential endpoints: access tokens, mini-program login and phone numbers, and
official-account web OAuth (whose authorize page lives on open.weixin.qq.com)."""

import time
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import Blueprint, redirect, request

from .api import authenticated, json_body, ok, sandbox_state
from .errors import WeChatError
from .records import App
from .state_auth import OAUTH_TOKEN_TTL

OAUTH_SCOPES = ("snsapi_base", "snsapi_userinfo")
OPENID_HEADER = "X-Sandbox-Openid"

bp = Blueprint("wechat_auth", __name__)


@bp.get("/cgi-bin/token")
def token():
    """A new token each call; the previous one lives `token_grace` more seconds."""
    _require_grant_type("client_credential")
    access_token, expires_in = sandbox_state().issue_token(
        request.args.get("appid", ""), request.args.get("secret", "")
    )
    return {"access_token": access_token, "expires_in": expires_in}


@bp.post("/cgi-bin/stable_token")
def stable_token():
    """The same token until its last 5 minutes; `force_refresh` is rate-limited."""
    body = json_body()
    if body.get("grant_type") != "client_credential":
        raise WeChatError(40002)
    access_token, expires_in = sandbox_state().stable_token(
        str(body.get("appid", "")), str(body.get("secret", "")), body.get("force_refresh") is True
    )
    return {"access_token": access_token, "expires_in": expires_in}


@bp.get("/sns/jscode2session")
def code_to_session():
    """Redeem a wx.login code (no access_token needed)."""
    _require_grant_type("authorization_code")
    args = request.args
    user = sandbox_state().code_to_session(
        args.get("appid", ""), args.get("secret", ""), args.get("js_code", "")
    )
    return _with_unionid({"session_key": user.session_key, "openid": user.openid}, user.unionid)


@bp.post("/wxa/business/getuserphonenumber")
@authenticated("wxa")
def phone_number(app: App):
    """Redeem a phone-number code."""
    phone = sandbox_state().redeem_phone_code(app.appid, str(json_body().get("code", "")))
    watermark = {"timestamp": int(time.time()), "appid": app.appid}
    return ok(
        phone_info={
            "phoneNumber": phone,
            "purePhoneNumber": phone,
            "countryCode": "86",
            "watermark": watermark,
        }
    )


@bp.get("/connect/oauth2/authorize")
def oauth_authorize():
    """Redirect to redirect_uri with a code for the user at the phone (or X-Sandbox-Openid)."""
    args = request.args
    app = sandbox_state().app(args.get("appid", ""))
    if args.get("scope") not in OAUTH_SCOPES:
        raise WeChatError(10005)
    if not args.get("redirect_uri"):
        raise WeChatError(10003)
    code = sandbox_state().oauth_code(
        app.appid, args["scope"], request.headers.get(OPENID_HEADER) or None
    )
    return redirect(_add_query(args["redirect_uri"], code=code, state=args.get("state", "")))


@bp.get("/sns/oauth2/access_token")
def oauth_access_token():
    """Redeem an OAuth code for a user access token."""
    _require_grant_type("authorization_code")
    args = request.args
    grant = sandbox_state().oauth_access_token(
        args.get("appid", ""), args.get("secret", ""), args.get("code", "")
    )
    reply = {
        "access_token": grant.access_token,
        "expires_in": OAUTH_TOKEN_TTL,
        "refresh_token": grant.refresh_token,
        "openid": grant.openid,
        "scope": grant.scope,
    }
    return _with_unionid(reply, grant.unionid)


@bp.get("/sns/userinfo")
def oauth_userinfo():
    """The profile behind an snsapi_userinfo token."""
    access_token = request.args.get("access_token", "")
    if not access_token:
        raise WeChatError(41001)
    user = sandbox_state().oauth_userinfo(access_token, request.args.get("openid", ""))
    profile = {
        "openid": user.openid,
        "nickname": user.nickname,
        "sex": 0,
        "province": "",
        "city": "",
        "country": "",
        "headimgurl": "",
        "privilege": [],
    }
    return _with_unionid(profile, user.unionid)


def _require_grant_type(expected: str) -> None:
    if request.args.get("grant_type") != expected:
        raise WeChatError(40002)


def _with_unionid(reply: dict, unionid: str | None) -> dict:
    return {**reply, "unionid": unionid} if unionid else reply


def _add_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    return urlunsplit(parts._replace(query=query))
