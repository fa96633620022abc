"""`/wechat/mp` and `/wechat/wxa`: WeChat's pushes (DESIGN §6 "Callbacks").

Verify, decrypt, de-duplicate, answer. Nothing here waits on the database or on WeChat,
so the answer comes well inside WeChat's 5 seconds; anything that is not a genuine, fresh
push gets a 4xx and no side effect.
"""

import logging

from flask import Blueprint, Response, request

from api.errors import error_response
from config import current_settings
from tasks.wechat_events import accept_push
from wechat.callbacks import (
    MAX_BODY,
    CallbackRejected,
    open_push,
    seal_reply,
    text_reply,
    verify_echo,
)
from wechat.handlers import Links

bp = Blueprint("wechat_callbacks", __name__)
log = logging.getLogger(__name__)


@bp.route("/wechat/<any(mp, wxa):kind>", methods=["GET", "POST"])
def callback(kind: str):
    settings = current_settings()
    app = getattr(settings, kind)
    try:
        if request.method == "GET":
            return Response(verify_echo(app, request.args), mimetype="text/plain")
        request.max_content_length = MAX_BODY
        inbound = open_push(
            app,
            request.args,
            request.get_data(cache=False),
            max_age=settings.callback_max_age,
            allow_plaintext=not settings.production,
        )
    except CallbackRejected as rejected:
        log.info("callback rejected", extra={"fields": {"app": kind, "reason": rejected.code}})
        return error_response(rejected.status, rejected.code, "请求无效")
    links = Links(settings.public_base_url, settings.wxa.appid, settings.wxa_page)
    reply = accept_push(kind, inbound.message, links)
    if reply is None:
        return Response("success", mimetype="text/plain")
    body = seal_reply(app, inbound, text_reply(inbound.message, reply))
    return Response(body, mimetype="application/xml")
