"""Plumbing shared by the WeChat endpoint blueprints (api_*.py): access-token checks, JSON
bodies, WeChat-shaped errors, injected faults and the request log.

WeChat answers every failure with HTTP 200 and `{"errcode", "errmsg"}`; this module is the one
place that shape is produced and the one place faults and logging hook in, so the endpoint
modules only state WeChat's rules. The control API under ADMIN_PREFIX is left alone.
"""

import functools
import json
import socket
import time
from collections.abc import Callable

from flask import Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import MethodNotAllowed, NotFound

from .errors import WeChatError
from .records import Fault
from .state import SandboxState

ADMIN_PREFIX = "/__admin"
EXTENSION = "wechat_sandbox"
BODY_SUMMARY_LIMIT = 500


def sandbox_state() -> SandboxState:
    """The world the current app serves."""
    return current_app.extensions[EXTENSION]


def authenticated(kind: str | None = None) -> Callable:
    """Check `?access_token` before anything else and pass the token's App to the view.

    `kind` ("mp" or "wxa") limits the endpoint to one kind of app; the other kind gets 48001,
    as an account without the permission does.
    """

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def checked(**kwargs):
            access_token = request.args.get("access_token", "")
            if not access_token:
                raise WeChatError(41001)
            app = sandbox_state().app_for_token(access_token)
            g.appid = app.appid
            if kind and app.kind != kind:
                raise WeChatError(48001)
            return view(app, **kwargs)

        return checked

    return decorate


def json_body() -> dict:
    """The JSON object in the body, whatever the Content-Type (wechatpy sends none)."""
    raw = request.get_data()
    if not raw.strip():
        raise WeChatError(44002)
    try:
        body = json.loads(raw)
    except ValueError:
        raise WeChatError(47001) from None
    if not isinstance(body, dict):
        raise WeChatError(47001)
    return body


def ok(**fields: object) -> dict:
    """A success body in WeChat's shape."""
    return {"errcode": 0, "errmsg": "ok", **fields}


def install(app: Flask) -> None:
    """Hook faults, logging and WeChat's error shape into the Flask app."""
    app.before_request(_apply_fault)
    app.after_request(_log_request)
    app.register_error_handler(WeChatError, _wechat_error)
    app.register_error_handler(NotFound, _unknown_path)
    app.register_error_handler(MethodNotAllowed, _wrong_method)


def _is_admin() -> bool:
    return request.path.startswith(ADMIN_PREFIX)


def _apply_fault() -> Response | None:
    if _is_admin():
        return None
    fault = sandbox_state().claim_fault(request.path)
    if fault is None:
        return None
    if fault.mode == "error":
        return jsonify(WeChatError(fault.errcode).as_reply())
    if fault.mode == "delay":
        time.sleep(fault.delay)
        return None
    g.drop_after = fault
    return None


def _log_request(response: Response) -> Response:
    if _is_admin():
        return response
    sandbox_state().log_request(
        {
            "at": time.time(),
            "method": request.method,
            "path": request.path,
            "query": request.args.to_dict(),
            "body": _body_summary(),
            "appid": g.get("appid") or request.args.get("appid"),
            "status": response.status_code,
            "errcode": _errcode(response),
        }
    )
    if "drop_after" in g:
        _drop(g.drop_after)
    return response


def _drop(fault: Fault) -> None:
    """The request was processed; now answer late, or never (the connection just closes)."""
    if fault.delay is not None:
        time.sleep(fault.delay)
    else:
        request.environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)


def _body_summary() -> object:
    raw = request.get_data()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw[:BODY_SUMMARY_LIMIT].decode("utf-8", "replace")


def _errcode(response: Response) -> int | None:
    if response.is_json:
        return (response.get_json(silent=True) or {}).get("errcode", 0)
    return 0 if response.status_code < 400 else None


def _wechat_error(error: WeChatError) -> Response:
    return jsonify(error.as_reply())


def _unknown_path(error: NotFound) -> Response:
    if _is_admin():
        return jsonify(error=f"no control endpoint {request.path}"), 404
    return jsonify(WeChatError(40066).as_reply())


def _wrong_method(error: MethodNotAllowed) -> Response:
    if _is_admin():
        return jsonify(error=f"{request.method} not allowed on {request.path}"), 405
    errcode = 43002 if "POST" in (error.valid_methods or ()) else 43001
    return jsonify(WeChatError(errcode).as_reply())
