"""`/wechat/mp` and `/wechat/wxa`: WeChat's pushes (DESIGN §6 "Callbacks").

Verify, decrypt, de-duplicate, answer. Nothing here waits on the database or on WeChat,
so the answer comes well inside WeChat's 5 seconds; anything that is not a genuine, fresh
push gets a 4xx and no side effect.

A genuine POSTed push, by far the most frequent request here, is answered by `FastPushes`
before Flask routes it: the same `answer_push`, minus Flask's request context, routing,
hooks and response object, which were a fifth of the callback's cost (bench/callback.py,
bench/instructions.py). Whatever it does not answer itself (the GET verification, a
rejected or malformed push, Redis down, any error) goes on to the Flask view below, which
answers it with the usual error codes and log lines.
"""

import functools
import io
import json
import logging
import time
from urllib.parse import parse_qsl

from flask import Blueprint, Response, request
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from api.errors import RETRY_AFTER_SECONDS, SERVICE_UNAVAILABLE, error_response
from api.request_hooks import adopt_request_id, observe
from config import Settings, current_settings
from logs import bind_request_id, unbind_request_id
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

ENDPOINT = "wechat_callbacks.callback"
PATHS = {"/wechat/mp": "mp", "/wechat/wxa": "wxa"}


@bp.route("/wechat/<any(mp, wxa):kind>", methods=["GET", "POST"])
def callback(kind: str):
    settings = current_settings()
    app = getattr(settings, kind)
    try:
        if request.method == "GET":
            return Response(verify_echo(app, request.args), mimetype="text/plain")
        request.max_content_length = MAX_BODY
        body, mimetype = answer_push(settings, kind, request.args, request.get_data(cache=False))
    except CallbackRejected as rejected:
        log.info("callback rejected", extra={"fields": {"app": kind, "reason": rejected.code}})
        return error_response(rejected.status, rejected.code, "请求无效")
    return Response(body, mimetype=mimetype)


def answer_push(settings: Settings, kind: str, args, body: bytes) -> tuple[str, str]:
    """Open a POSTed push, accept it (de-dup, inbox, touch: one Redis round trip) and return
    the answer's (body, mimetype); raise CallbackRejected for anything not a genuine push."""
    app = getattr(settings, kind)
    inbound = open_push(
        app,
        args,
        body,
        max_age=settings.callback_max_age,
        allow_plaintext=not settings.production,
    )
    reply = accept_push(kind, inbound.message, links(settings))
    if reply is None:
        return "success", "text/plain"
    return seal_reply(app, inbound, text_reply(inbound.message, reply)), "application/xml"


@functools.lru_cache(maxsize=4)
def links(settings: Settings) -> Links:
    return Links(settings.public_base_url, settings.wxa.appid, settings.wxa_page)


class FastPushes:
    """WSGI middleware: answer a well-formed POST to `/wechat/mp` or `/wechat/wxa` without
    Flask; hand anything else, and anything that fails, to Flask with the body intact."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        kind = PATHS.get(environ.get("PATH_INFO", ""))
        if kind is None or environ.get("REQUEST_METHOD") != "POST":
            return self.wsgi_app(environ, start_response)
        query = environ.get("QUERY_STRING", "")
        length = environ.get("CONTENT_LENGTH", "")
        if not length.isdigit() or not 0 < int(length) <= MAX_BODY or "%00" in query:
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        body = environ["wsgi.input"].read(int(length))
        environ["wsgi.input"] = io.BytesIO(body)  # Flask reads it again if it takes over
        request_id = adopt_request_id(environ)
        token = bind_request_id(request_id)
        try:
            args = {}
            for key, value in parse_qsl(query, keep_blank_values=True):
                args.setdefault(key, value)  # the first value, as Flask's `args.get`
            answer, mimetype = answer_push(current_settings(), kind, args, body)
            status, headers = "200 OK", []
        except (RedisConnectionError, RedisTimeoutError) as error:  # as errors.py, not twice
            log.warning("Redis unavailable: %s", error)
            code, message = SERVICE_UNAVAILABLE
            answer = json.dumps({"error": {"code": code, "message": message, "fields": []}})
            mimetype, status = "application/json", "503 SERVICE UNAVAILABLE"
            headers = [("Retry-After", str(RETRY_AFTER_SECONDS))]
        except Exception:  # rejected, malformed…: Flask answers it, with its codes and logs
            return self.wsgi_app(environ, start_response)
        finally:
            unbind_request_id(token)
        payload = answer.encode()
        headers += [
            ("Content-Type", f"{mimetype}; charset=utf-8"),
            ("Content-Length", str(len(payload))),
            ("X-Request-Id", request_id),
        ]
        start_response(status, headers)
        observe(ENDPOINT, "POST", status[:3], started)
        return [payload]


bp.record_once(lambda state: setattr(state.app, "wsgi_app", FastPushes(state.app.wsgi_app)))
