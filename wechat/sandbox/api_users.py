"""WeChat's account endpoints: follower info (with the QR scene that made them follow) and
the API quota calls."""

from flask import Blueprint, request

from .api import authenticated, json_body, ok, sandbox_state
from .errors import WeChatError
from .records import App

bp = Blueprint("wechat_users", __name__)


@bp.get("/cgi-bin/user/info")
@authenticated("mp")
def user_info(app: App):
    """Followers get the full record (no nickname since 2021); others `subscribe: 0`."""
    user = sandbox_state().user(app.appid, request.args.get("openid", ""))
    if not user.follower:
        return {"subscribe": 0, "openid": user.openid}
    info = {
        "subscribe": 1,
        "openid": user.openid,
        "language": "zh_CN",
        "subscribe_time": user.subscribe_time,
    }
    if user.unionid:
        info["unionid"] = user.unionid
    return info | {
        "remark": "",
        "groupid": 0,
        "tagid_list": [],
        "subscribe_scene": user.subscribe_scene,
        "qr_scene": user.qr_scene,
        "qr_scene_str": user.qr_scene_str,
    }


@bp.post("/cgi-bin/clear_quota")
@authenticated()
def clear_quota(app: App):
    """Reset the app's daily call counts (the body names the app again)."""
    if json_body().get("appid") != app.appid:
        raise WeChatError(40013)
    sandbox_state().clear_quota(app.appid)
    return ok()


@bp.post("/cgi-bin/openapi/quota/get")
@authenticated()
def quota_get(app: App):
    """Daily limit and use of one API path (only /cgi-bin/token is modelled)."""
    cgi_path = str(json_body().get("cgi_path", ""))
    return ok(quota=sandbox_state().quota(app.appid, cgi_path))
