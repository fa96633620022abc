"""`/wechat/oauth/start` → WeChat → `/wechat/oauth/callback`: H5 login inside WeChat.

The callback ends in an H5 cookie session (`pages.h5.common.sign_in`: the console's
`pages.websession`, path `/h5`, CSRF on every POST, idle and absolute expiry), so no
bearer token ever appears in a URL.
"""

import re

from flask import Blueprint, redirect, render_template, request
from requests import RequestException
from wechatpy.exceptions import WeChatClientException, WeChatOAuthException

from campaign.attribution import attribute
from campaign.channels.codes import CODE_PATTERN
from campaign.channels.touches import touch_record
from campaign.identity import link_unionid
from campaign.users import upsert_user
from config import current_settings
from models import Channel
from pages.h5.common import sign_in
from tasks.touches import record_touch
from wechat.oauth import (
    STATE_MAX_AGE,
    BadState,
    exchange_code,
    make_state,
    oauth_client,
    read_state,
)

bp = Blueprint("oauth", __name__, url_prefix="/wechat/oauth")

NONCE_COOKIE = "oauth_nonce"
NEXT_COOKIE = "oauth_next"
H5_PAGE = re.compile(r"^/h5/[a-z0-9]+(/[a-z0-9]+)*$")  # where the callback may send you back
SCOPES = {"base": "snsapi_base", "userinfo": "snsapi_userinfo"}


def _redirect_uri(settings) -> str:
    return f"{settings.public_base_url}/wechat/oauth/callback"


@bp.get("/start")
def start():
    """Send the browser to WeChat's consent page, carrying the channel code in `state`."""
    settings = current_settings()
    code = request.args.get("c", "")
    code = code if CODE_PATTERN.match(code) else None
    scope = SCOPES.get(request.args.get("scope", "base"), "snsapi_base")
    state, nonce = make_state(settings.secret_key, code)
    oauth = oauth_client(
        settings.mp, settings.wechat_api_base, _redirect_uri(settings), state, scope
    )
    response = redirect(oauth.authorize_url)
    response.set_cookie(
        NONCE_COOKIE,
        nonce,
        max_age=STATE_MAX_AGE,
        path="/wechat/oauth",
        httponly=True,
        samesite="Lax",
        secure=settings.public_base_url.startswith("https://"),
    )
    back = request.args.get("next", "")
    if H5_PAGE.match(back):  # an H5 page that asked for a sign-in (e.g. /h5/progress)
        response.set_cookie(
            NEXT_COOKIE,
            back,
            max_age=STATE_MAX_AGE,
            path="/wechat/oauth",
            httponly=True,
            samesite="Lax",
            secure=settings.public_base_url.startswith("https://"),
        )
    return response


@bp.get("/callback")
def callback():
    """Check the state, exchange the code, attribute the channel, hand over a token."""
    settings = current_settings()
    try:
        code = read_state(
            settings.secret_key, request.args.get("state", ""), request.cookies.get(NONCE_COOKIE)
        )
    except BadState:
        return _failure("链接已失效或不是在本机打开的，请重新进入报名页面。", 400)
    if not request.args.get("code"):
        return _failure("您没有授权登录，请重新进入报名页面。", 400)
    oauth = oauth_client(settings.mp, settings.wechat_api_base, _redirect_uri(settings))
    try:
        identity = exchange_code(oauth, request.args["code"])
    except (WeChatOAuthException, WeChatClientException, RequestException):
        return _failure("微信登录未完成，请重新进入报名页面。", 400)
    user = upsert_user(
        "mp",
        identity["openid"],
        **{k: v for k, v in identity.items() if k not in ("openid", "unionid")},
    )
    link_unionid(user, identity.get("unionid"), f"user:{user.id}")  # one person across apps
    _attribute(user, code)
    back = request.cookies.get(NEXT_COOKIE, "")
    response = redirect(back if H5_PAGE.match(back) else "/h5/home")
    sign_in(response, user)
    response.delete_cookie(NONCE_COOKIE, path="/wechat/oauth")
    response.delete_cookie(NEXT_COOKIE, path="/wechat/oauth")
    return response


def _attribute(user, code: str | None) -> None:
    channel = Channel.get_or_none(Channel.code == code) if code else None
    if channel is not None and channel.active:
        attribute(channel.campaign, user, channel)
    record_touch(touch_record("oauth", code=code, app="mp", openid=user.openid))


def _failure(message: str, status: int):
    return render_template("h5/message.html", title="无法完成登录", message=message), status
