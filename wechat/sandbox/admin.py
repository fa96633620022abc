"""The sandbox's control API under /__admin: register apps, seed the world, inject faults,
act as WeChat users and read the logs.

JSON in, JSON out. Misuse answers 400 (bad, mistyped or missing fields, an unknown appid) or 404 (an
unknown ticket, template or user) with `{"error": "..."}`. Each endpoint is a thin wrapper over
`SandboxState` or `UserActions`, which Python tests may call directly instead.
"""

from dataclasses import asdict

from flask import Blueprint, request

from .actions import UserActions
from .api import ADMIN_PREFIX, sandbox_state
from .errors import WeChatError

APP_FIELDS = ("kind", "appid", "secret", "token", "aes_key")
APP_OPTIONS = ("callback_url", "mode", "push_format", "original_id")
USER_OPTIONS = ("openid", "unionid", "nickname", "follower", "phone")
FAULT_OPTIONS = ("mode", "errcode", "times", "delay")

bp = Blueprint("sandbox_admin", __name__, url_prefix=ADMIN_PREFIX)


@bp.errorhandler(ValueError)
@bp.errorhandler(TypeError)
def _bad_request(error: ValueError | TypeError):
    """Bad values, or JSON of the wrong type (a number where a list belongs)."""
    return {"error": str(error)}, 400


@bp.errorhandler(LookupError)
def _not_found(error: LookupError):
    return {"error": str(error)}, 404


@bp.errorhandler(WeChatError)
def _refused(error: WeChatError):
    return {"error": error.message, "errcode": error.errcode}, 400


# -- the world --------------------------------------------------------------------------


@bp.post("/apps")
def add_app():
    return asdict(sandbox_state().add_app(**_fields(APP_FIELDS, APP_OPTIONS)))


@bp.post("/users")
def add_user():
    return asdict(sandbox_state().add_user(**_fields(("appid",), USER_OPTIONS)))


@bp.post("/login-code")
def login_code():
    return {"code": sandbox_state().login_code(**_fields(("appid",), ("openid",)))}


@bp.post("/phone-code")
def phone_code():
    return {"code": sandbox_state().phone_code(**_fields(("appid", "openid", "phone")))}


@bp.post("/oauth/user")
def oauth_user():
    return asdict(sandbox_state().set_oauth_user(**_fields(("appid", "openid"))))


@bp.post("/templates")
def add_template():
    fields = _fields(("appid", "template_id", "keys"), ("long_term",))
    return asdict(sandbox_state().add_template(**fields))


@bp.post("/pages")
def set_pages():
    return asdict(sandbox_state().set_pages(**_fields(("appid", "pages"))))


@bp.post("/sec-words")
def set_sec_words():
    state = sandbox_state()
    state.set_sec_words(**_fields((), ("risky", "review")))
    risky, review = state.sec_words()
    return {"risky": list(risky), "review": list(review)}


@bp.post("/risky-media")
def set_risky_media():
    state = sandbox_state()
    state.set_risky_media(_fields(("sha256",))["sha256"])
    return {"sha256": sorted(state.risky_media())}


@bp.post("/tokens/expire")
def expire_tokens():
    return {"expired": sandbox_state().expire_tokens(**_fields(("appid",)))}


@bp.post("/config")
def configure():
    return asdict(sandbox_state().configure(**_body()))


@bp.post("/faults")
def add_fault():
    return asdict(sandbox_state().add_fault(**_fields(("path",), FAULT_OPTIONS)))


@bp.delete("/faults")
def clear_faults():
    return {"cleared": sandbox_state().clear_faults()}


@bp.post("/reset")
def reset():
    sandbox_state().reset()
    return {"reset": True}


# -- users acting on their phones -------------------------------------------------------


@bp.post("/scan")
def scan():
    fields = _fields(("appid", "openid"), ("ticket", "scene", "wait"))
    return _actions().scan(**fields).as_dict()


@bp.post("/subscribe")
def subscribe():
    return _actions().subscribe(**_fields(("appid", "openid"), ("wait",))).as_dict()


@bp.post("/unsubscribe")
def unsubscribe():
    return _actions().unsubscribe(**_fields(("appid", "openid"), ("wait",))).as_dict()


@bp.post("/subscribe-popup")
def subscribe_popup():
    fields = _fields(("appid", "openid", "results"), ("scene", "wait"))
    return _actions().subscribe_popup(**fields).as_dict()


@bp.post("/subscribe-change")
def subscribe_change():
    fields = _fields(("appid", "openid", "template_id"), ("status", "wait"))
    return _actions().subscribe_change(**fields).as_dict()


@bp.post("/text")
def text():
    return _actions().text(**_fields(("appid", "openid", "content"), ("wait",))).as_dict()


@bp.post("/push")
def push():
    return _actions().push(**_fields(("appid", "payload"), ("wait",))).as_dict()


@bp.post("/verify")
def verify():
    return _actions().verify(**_fields(("appid",)))


# -- logs -------------------------------------------------------------------------------


@bp.get("/requests")
def requests_log():
    return {"requests": sandbox_state().requests()}


@bp.get("/pushes")
def pushes_log():
    return {"pushes": [record.as_dict() for record in sandbox_state().pushes()]}


@bp.get("/sends")
def sends_log():
    return {"sends": sandbox_state().sends()}


@bp.get("/media-checks")
def media_checks_log():
    return {"media_checks": sandbox_state().media_checks()}


@bp.get("/state")
def summary():
    return sandbox_state().summary()


def _body() -> dict:
    body = request.get_json(force=True, silent=True)
    if body is None and request.get_data().strip():
        raise ValueError("the body is not JSON")
    if not isinstance(body or {}, dict):
        raise ValueError("the body must be a JSON object")
    return body or {}


def _fields(required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    """The body, checked to hold every required field and nothing unexpected."""
    body = _body()
    missing = [name for name in required if name not in body]
    if missing:
        raise ValueError(f"missing fields: {missing}")
    unknown = sorted(set(body) - set(required) - set(optional))
    if unknown:
        raise ValueError(f"unknown fields: {unknown}")
    return body


def _actions() -> UserActions:
    return UserActions(sandbox_state())
