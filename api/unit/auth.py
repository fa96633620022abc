"""Mini-program login, phone binding and logout (DESIGN §6 "Identity")."""

from flask import Blueprint, jsonify
from requests import RequestException
from wechatpy.exceptions import WeChatClientException

from api.payload import json_object, required_string
from api.ratelimits import enforce, rate_limited
from api.security import bearer_token, current_user, login_required
from api.wechat_errors import wechat_error
from campaign.clock import iso_local
from campaign.identity import link_unionid
from campaign.pii import mask_phone
from campaign.sessions import issue_token, revoke_token
from campaign.users import upsert_user
from models import WechatUser
from tasks import limits
from wechat import calls
from wechat.client import wxa_client

bp = Blueprint("auth_api", __name__, url_prefix="/api/v1")


@bp.post("/auth/wxa-login")
@rate_limited("login")
def wxa_login():
    """Exchange a `wx.login()` code for our own bearer token; session_key stays here."""
    code = required_string(json_object(), "code", max_length=128)
    answer = _ask_wechat(calls.code_to_session, wxa_client(), code)
    enforce("login", limits.identity_key("wxa-login", answer["openid"]))  # per identity too
    user = upsert_user("wxa", answer["openid"], session_key=answer.get("session_key"))
    link_unionid(user, answer.get("unionid"), f"user:{user.id}")  # one person across apps
    token, expires_at = issue_token(user)
    return jsonify(token=token, expires_at=iso_local(expires_at, "UTC"), user=user_payload(user))


@bp.post("/auth/logout")
@login_required
def logout():
    revoke_token(bearer_token())
    return jsonify(status="ok")


@bp.get("/me")
@login_required
def me():
    return jsonify(user_payload(current_user()))


@bp.post("/me/phone")
@login_required
def bind_phone():
    """Bind the phone number WeChat vouches for (a single-use `getPhoneNumber` code)."""
    code = required_string(json_object(), "code", max_length=128)
    info = _ask_wechat(calls.phone_number, wxa_client(), code)
    user = current_user()
    phone = info.get("purePhoneNumber") or info.get("phoneNumber")
    WechatUser.update(phone=phone).where(WechatUser.id == user.id).execute()
    user.phone = phone
    return jsonify(user_payload(user))


def user_payload(user: WechatUser) -> dict:
    """What a client may know about itself: never the openid's secrets or session_key."""
    return {
        "id": user.id,
        "app": user.app,
        "nickname": user.nickname,
        "phone": mask_phone(user.phone),
        "has_phone": bool(user.phone),
    }


def _ask_wechat(call, *args):
    """Run a WeChat call, turning its failures into clear API errors."""
    try:
        return call(*args)
    except WeChatClientException as exc:
        raise wechat_error(exc.errcode, exc.errmsg) from exc
    except RequestException as exc:
        raise wechat_error(None, type(exc).__name__) from exc
