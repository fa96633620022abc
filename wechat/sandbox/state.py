"""The sandbox's in-memory WeChat world: apps and settings here, the rest in one module per
WeChat area, as the endpoints are split into api_*.py:

| area | module | endpoints |
| --- | --- | --- |
| tokens, quotas, login/phone/OAuth codes | state_auth.py | api_auth.py, quota in api_users.py |
| users and follows | state_users.py | api_users.py |
| QR tickets and scans | state_qr.py | api_qr.py |
| templates, subscription grants, sends | state_messages.py | api_messages.py |
| risky words and media, media checks | state_security.py | api_security.py |
| faults, request log, push records | state_log.py | api.py, push.py |

`SandboxState` composes them and answers every public method by name, so callers keep one
object. One lock guards all of it, so each WeChat rule that reads and writes several things (a
send that checks a credit and consumes it, a scan that turns a visitor into a follower) is
atomic, as it is on WeChat's side. Pure Python, no HTTP: the endpoint layers turn requests into
these calls and `WeChatError`s into WeChat's JSON, while `LookupError` and `ValueError` mean that
the control API was misused (an unknown ticket, a bad setting).
"""

import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields, replace

from .envelope import aes_key_bytes
from .errors import WeChatError
from .records import DEFAULT_PAGE, App, Config
from .state_auth import AuthState
from .state_log import LogState
from .state_messages import MessageState
from .state_qr import QrState
from .state_security import SecurityState
from .state_users import UserState

KINDS = ("mp", "wxa")
MODES = ("safe", "plain")
PUSH_FORMATS = ("xml", "json")
# The order `GET /__admin/state` lists the counts in (its JSON keys are not sorted).
SUMMARY_ORDER = ("users", "templates", "tickets", "faults", "requests", "pushes", "sends")


class _Area:
    """A public method of `SandboxState` that is the same-named method of one of its areas."""

    def __init__(self, area: str):
        self.area = area

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, state: "SandboxState | None", owner: type | None = None):
        if state is None:
            return self
        return getattr(getattr(state, self.area), self.name)


class SandboxState:
    """The whole world behind one re-entrant lock; every public method is thread-safe."""

    def __init__(self, config: Config | None = None, clock: Callable[[], float] = time.time):
        self.config = config or Config()
        self.clock = clock
        self._initial_config = replace(self.config)
        self.lock = threading.RLock()
        self._changed = threading.Condition(self.lock)
        self._apps: dict[str, App] = {}
        self.users = UserState(self)
        self.auth = AuthState(self)
        self.qr = QrState(self)
        self.messages = MessageState(self)
        self.security = SecurityState(self)
        self.log = LogState(self)
        self._areas = (self.users, self.auth, self.qr, self.messages, self.security, self.log)

    # -- state_auth.py: access tokens and quotas, login/phone/OAuth codes ----------------
    issue_token = _Area("auth")
    stable_token = _Area("auth")
    app_for_token = _Area("auth")
    expire_tokens = _Area("auth")
    clear_quota = _Area("auth")
    quota = _Area("auth")
    login_code = _Area("auth")
    code_to_session = _Area("auth")
    phone_code = _Area("auth")
    redeem_phone_code = _Area("auth")
    set_oauth_user = _Area("auth")
    oauth_code = _Area("auth")
    oauth_access_token = _Area("auth")
    oauth_userinfo = _Area("auth")
    # -- state_users.py: users and follows -----------------------------------------------
    add_user = _Area("users")
    user = _Area("users")
    follow = _Area("users")
    unfollow = _Area("users")
    # -- state_qr.py: QR tickets ---------------------------------------------------------
    create_ticket = _Area("qr")
    ticket = _Area("qr")
    scan = _Area("qr")
    # -- state_messages.py: templates, credits and sends ---------------------------------
    add_template = _Area("messages")
    answer_popup = _Area("messages")
    refuse_subscription = _Area("messages")
    credits = _Area("messages")
    send = _Area("messages")
    sends = _Area("messages")
    next_message_id = _Area("messages")
    # -- state_security.py: content security ---------------------------------------------
    set_sec_words = _Area("security")
    sec_words = _Area("security")
    set_risky_media = _Area("security")
    risky_media = _Area("security")
    add_media_check = _Area("security")
    media_checks = _Area("security")
    # -- state_log.py: faults and logs ---------------------------------------------------
    add_fault = _Area("log")
    claim_fault = _Area("log")
    clear_faults = _Area("log")
    log_request = _Area("log")
    requests = _Area("log")
    add_push = _Area("log")
    pushes = _Area("log")

    # -- locking and waiting ------------------------------------------------------------

    @contextmanager
    def changing(self) -> Iterator[None]:
        """Hold the lock for a change, then wake whoever is in `wait_until`."""
        with self._changed:
            yield
            self._changed.notify_all()

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Block until `predicate()` (evaluated under the lock) is true; False on timeout."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    # -- settings -----------------------------------------------------------------------

    def configure(self, **changes: float) -> Config:
        """Change settings of `Config` by name; returns the new settings."""
        types = {f.name: f.type for f in fields(Config)}
        unknown = set(changes) - set(types)
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        try:
            converted = {name: types[name](value) for name, value in changes.items()}
        except (TypeError, ValueError) as exc:
            raise ValueError(f"settings must be numbers: {exc}") from None
        with self.lock:
            for name, value in converted.items():
                setattr(self.config, name, value)
            return replace(self.config)

    def reset(self) -> None:
        """Forget everything but the apps; settings return to those the sandbox started with."""
        with self.changing():
            self.config = replace(self._initial_config)
            for area in self._areas:
                area.clear()

    def summary(self) -> dict:
        """Counts and settings, for `GET /__admin/state`."""
        with self.lock:
            counts = {name: count for area in self._areas for name, count in area.summary().items()}
            return {
                "apps": [asdict(app) for app in self._apps.values()],
                **{name: counts[name] for name in SUMMARY_ORDER},
                "config": asdict(self.config),
            }

    # -- apps ---------------------------------------------------------------------------

    def add_app(
        self,
        kind: str,
        appid: str,
        secret: str,
        token: str,
        aes_key: str,
        callback_url: str | None = None,
        mode: str = "safe",
        push_format: str = "xml",
        original_id: str | None = None,
    ) -> App:
        """Register an app, or change an existing one's settings (its world stays)."""
        _check_app_settings(kind, aes_key, mode, push_format)
        with self.lock:
            existing = self._apps.get(appid)
            app = App(
                kind,
                appid,
                secret,
                token,
                aes_key,
                callback_url,
                mode,
                push_format,
                original_id or (existing.original_id if existing else _new_original_id()),
                existing.pages if existing else (DEFAULT_PAGE,),
            )
            self._apps[appid] = app
            return app

    def app(self, appid: str) -> App:
        """The app, or WeChat's 40013 for an appid it does not know."""
        with self.lock:
            if appid not in self._apps:
                raise WeChatError(40013)
            return self._apps[appid]

    def set_pages(self, appid: str, pages: Iterable[str]) -> App:
        """Replace the mini-program pages that `check_path` accepts."""
        with self.lock:
            app = replace(self.app(appid), pages=tuple(pages))
            self._apps[appid] = app
            return app


def _check_app_settings(kind: str, aes_key: str, mode: str, push_format: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    if push_format not in PUSH_FORMATS:
        raise ValueError(f"push_format must be one of {PUSH_FORMATS}")
    if push_format == "json" and kind != "wxa":
        raise ValueError("only mini-programs can receive JSON pushes")
    aes_key_bytes(aes_key)


def _new_original_id() -> str:
    return "gh_" + secrets.token_hex(6)
