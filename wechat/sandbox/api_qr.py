"""WeChat's QR endpoints: official-account parametric codes (create, and the image on the
mp.weixin.qq.com path) and mini-program codes (getwxacodeunlimit), with WeChat's limits."""

import re

from flask import Blueprint, Response, request

from . import images
from .api import authenticated, json_body, sandbox_state
from .errors import WeChatError
from .records import App

# action_name -> (permanent, the scene field it takes)
ACTIONS = {
    "QR_SCENE": (False, "scene_id"),
    "QR_STR_SCENE": (False, "scene_str"),
    "QR_LIMIT_SCENE": (True, "scene_id"),
    "QR_LIMIT_STR_SCENE": (True, "scene_str"),
}
DEFAULT_EXPIRE_SECONDS = 60
MAX_EXPIRE_SECONDS = 2_592_000
MAX_TEMPORARY_SCENE_ID = 2**32 - 1
MAX_PERMANENT_SCENE_ID = 100_000
MAX_SCENE_STR = 64
WXA_SCENE = re.compile(r"[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32}")
ENV_VERSIONS = ("release", "trial", "develop")
DEFAULT_WXACODE_WIDTH = 430

bp = Blueprint("wechat_qr", __name__)


@bp.post("/cgi-bin/qrcode/create")
@authenticated("mp")
def create_qrcode(app: App):
    """A ticket and url for a temporary or permanent scene."""
    body = json_body()
    action_name = body.get("action_name")
    if action_name not in ACTIONS:
        raise WeChatError(40052)
    permanent, scene_field = ACTIONS[action_name]
    scene = _scene(body, scene_field, permanent)
    expire_seconds = None if permanent else _expire_seconds(body)
    qr = sandbox_state().create_ticket(
        app.appid, action_name, expire_seconds=expire_seconds, **{scene_field: scene}
    )
    if permanent:
        return {"ticket": qr.ticket, "url": qr.url}
    return {"ticket": qr.ticket, "expire_seconds": expire_seconds, "url": qr.url}


@bp.get("/cgi-bin/showqrcode")
def show_qrcode():
    """The QR image of a live ticket (no access_token, as on mp.weixin.qq.com)."""
    qr = sandbox_state().ticket(request.args.get("ticket", ""))
    if qr is None:
        return Response(status=404)
    return Response(images.qr_png(qr.url), mimetype="image/png")


@bp.post("/wxa/getwxacodeunlimit")
@authenticated("wxa")
def wxacode_unlimited(app: App):
    """A JPEG mini-program code, or a JSON error (with HTTP 200)."""
    body = json_body()
    scene = body.get("scene")
    if not isinstance(scene, str) or not WXA_SCENE.fullmatch(scene):
        raise WeChatError(40169)
    page = body.get("page") or ""
    if body.get("check_path", True) and page and page not in app.pages:
        raise WeChatError(41030)
    if body.get("env_version", "release") not in ENV_VERSIONS:
        raise WeChatError(47001)
    width = body.get("width", DEFAULT_WXACODE_WIDTH)
    if not _is_int(width):
        raise WeChatError(47001)
    content = f"wxa:{app.appid}:{page}?scene={scene}"
    return Response(images.wxacode_jpeg(content, width), mimetype="image/jpeg")


def _scene(body: dict, scene_field: str, permanent: bool) -> int | str:
    action_info = body.get("action_info")
    scene = action_info.get("scene") if isinstance(action_info, dict) else None
    value = scene.get(scene_field) if isinstance(scene, dict) else None
    if scene_field == "scene_str":
        if not isinstance(value, str) or not 1 <= len(value) <= MAX_SCENE_STR:
            raise WeChatError(40053)
        return value
    upper = MAX_PERMANENT_SCENE_ID if permanent else MAX_TEMPORARY_SCENE_ID
    if not _is_int(value) or not 1 <= value <= upper:
        raise WeChatError(40053)
    return value


def _expire_seconds(body: dict) -> int:
    value = body.get("expire_seconds", DEFAULT_EXPIRE_SECONDS)
    if not _is_int(value) or not 1 <= value <= MAX_EXPIRE_SECONDS:
        raise WeChatError(47001)
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
