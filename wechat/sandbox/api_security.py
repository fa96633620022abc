"""WeChat's content-security endpoints: msg_sec_check (v2, and v1 for wechatpy's
`check_text_security`) and media_check_async (v2), whose verdict arrives later as an event."""

from flask import Blueprint

from . import followups, moderation
from .api import authenticated, json_body, ok, sandbox_state
from .errors import WeChatError, new_rid
from .records import App

MAX_CONTENT = 2500
SCENES = (1, 2, 3, 4)
MEDIA_TYPES = (1, 2)

bp = Blueprint("wechat_security", __name__)


@bp.post("/wxa/msg_sec_check")
@authenticated("wxa")
def msg_sec_check(app: App):
    """v2 reports pass/review/risky; v1 answers ok, or 87014 when risky."""
    body = json_body()
    content = body.get("content")
    if not isinstance(content, str) or not content:
        raise WeChatError(47001)
    verdict = moderation.judge_text(content, *sandbox_state().sec_words())
    if body.get("version") != 2:
        if verdict.suggest == "risky":
            raise WeChatError(87014)
        return ok()
    if len(content) > MAX_CONTENT:
        raise WeChatError(47001)
    _check_v2_caller(app, body)
    return ok(**moderation.text_check_fields(verdict, new_rid()))


@bp.post("/wxa/media_check_async")
@authenticated("wxa")
def media_check_async(app: App):
    """Accept the job; the sandbox downloads the media and pushes wxa_media_check later."""
    body = json_body()
    media_url = body.get("media_url")
    if body.get("version") != 2 or not isinstance(media_url, str) or not media_url:
        raise WeChatError(47001)
    if body.get("media_type") not in MEDIA_TYPES:
        raise WeChatError(47001)
    openid = _check_v2_caller(app, body)
    trace_id = new_rid()
    followups.check_media(sandbox_state(), app.appid, openid, trace_id, media_url)
    return ok(trace_id=trace_id)


def _check_v2_caller(app: App, body: dict) -> str:
    """v2 calls name a scene (1-4) and a user of the app; returns the openid."""
    if body.get("scene") not in SCENES:
        raise WeChatError(47001)
    return sandbox_state().user(app.appid, str(body.get("openid", ""))).openid
