"""WeChat's message-sending endpoints: mini-program subscribe messages, official-account
subscribe notifications (bizsend) and template messages.

Each success is recorded in the send log, so tests and benchmarks can count exactly what
reached each user (and catch duplicates).
"""

from flask import Blueprint

from . import followups
from .api import authenticated, json_body, ok, sandbox_state
from .errors import WeChatError
from .records import App

MINIPROGRAM_STATES = ("formal", "trial", "developer")
LANGUAGES = ("zh_CN", "en_US", "zh_HK", "zh_TW")

bp = Blueprint("wechat_messages", __name__)


@bp.post("/cgi-bin/message/subscribe/send")
@authenticated("wxa")
def subscribe_send(app: App):
    """Spends one credit of a one-time template (43101 when none is left)."""
    body = json_body()
    _check_choice(body, "miniprogram_state", MINIPROGRAM_STATES)
    _check_choice(body, "lang", LANGUAGES)
    _, msgid = _send(app, body, "subscribe/send", require_credit=True)
    return ok(msgid=msgid)


@bp.post("/cgi-bin/message/subscribe/bizsend")
@authenticated("mp")
def subscribe_bizsend(app: App):
    """The official-account twin of subscribe/send."""
    _, msgid = _send(app, json_body(), "subscribe/bizsend", require_credit=True)
    return ok(msgid=msgid)


@bp.post("/cgi-bin/message/template/send")
@authenticated("mp")
def template_send(app: App):
    """Followers only; TEMPLATESENDJOBFINISH is pushed shortly after."""
    openid, msgid = _send(app, json_body(), "template/send", require_follower=True)
    followups.report_template_delivery(sandbox_state(), app.appid, openid, msgid)
    return ok(msgid=msgid)


def _send(app: App, body: dict, api: str, **requirements: bool) -> tuple[str, int]:
    data = body.get("data")
    if not isinstance(data, dict):
        raise WeChatError(47001)
    openid = str(body.get("touser", ""))
    template_id = str(body.get("template_id", ""))
    return openid, sandbox_state().send(app.appid, openid, template_id, data, api, **requirements)


def _check_choice(body: dict, name: str, choices: tuple[str, ...]) -> None:
    if name in body and body[name] not in choices:
        raise WeChatError(47001)
