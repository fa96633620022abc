"""The sandbox's in-memory WeChat world: apps, users, tokens, one-time codes, QR tickets,
templates, subscription credits, faults and logs.

One lock guards all of it, so each WeChat rule that reads and writes several things (a send
that checks a credit and consumes it, a scan that turns a visitor into a follower) is atomic,
as it is on WeChat's side. Pure Python, no HTTP: the endpoint layers turn requests into these
calls and `WeChatError`s into WeChat's JSON, while `LookupError` and `ValueError` mean that the
control API was misused (an unknown ticket, a bad setting).
"""

import base64
import itertools
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields, replace
from typing import TYPE_CHECKING

from . import keywords
from .envelope import aes_key_bytes
from .errors import WeChatError
from .records import (
    DEFAULT_PAGE,
    App,
    Code,
    Config,
    Fault,
    OAuthGrant,
    QrTicket,
    Template,
    User,
)
from .tokens import TokenBook

if TYPE_CHECKING:
    from .push import PushRecord

KINDS = ("mp", "wxa")
MODES = ("safe", "plain")
PUSH_FORMATS = ("xml", "json")
FAULT_MODES = ("error", "delay", "drop_after")
POPUP_ANSWERS = ("accept", "reject")
TOKEN_PATH = "/cgi-bin/token"
CODE_TTL = 300
OAUTH_TOKEN_TTL = 7200
FORCE_REFRESH_DAILY_LIMIT = 20
FORCE_REFRESH_SPACING = 30
REQUEST_LOG_LIMIT = 100_000
CHINA_UTC_OFFSET = 8 * 3600


class SandboxState:
    """The whole world behind one re-entrant lock; every public method is thread-safe."""

    def __init__(self, config: Config | None = None, clock: Callable[[], float] = time.time):
        self.config = config or Config()
        self.clock = clock
        self._initial_config = replace(self.config)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._apps: dict[str, App] = {}
        self._clear_world()

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
        with self._lock:
            for name, value in converted.items():
                setattr(self.config, name, value)
            return replace(self.config)

    def reset(self) -> None:
        """Forget everything but the apps; settings return to those the sandbox started with."""
        with self.changing():
            self.config = replace(self._initial_config)
            self._clear_world()

    def summary(self) -> dict:
        """Counts and settings, for `GET /__admin/state`."""
        with self._lock:
            return {
                "apps": [asdict(app) for app in self._apps.values()],
                "users": len(self._users),
                "templates": len(self._templates),
                "tickets": len(self._tickets),
                "faults": [asdict(fault) for fault in self._faults],
                "requests": len(self._requests),
                "pushes": len(self._pushes),
                "sends": len(self._sends),
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
        with self._lock:
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
        with self._lock:
            if appid not in self._apps:
                raise WeChatError(40013)
            return self._apps[appid]

    def set_pages(self, appid: str, pages: Iterable[str]) -> App:
        """Replace the mini-program pages that `check_path` accepts."""
        with self._lock:
            app = replace(self.app(appid), pages=tuple(pages))
            self._apps[appid] = app
            return app

    # -- users --------------------------------------------------------------------------

    def add_user(
        self,
        appid: str,
        openid: str | None = None,
        unionid: str | None = None,
        nickname: str | None = None,
        follower: bool | None = None,
        phone: str | None = None,
    ) -> User:
        """Create a user (with a fresh openid unless given) or update the given fields."""
        with self._lock:
            user = self._ensure_user(appid, openid)
            for name, value in (("unionid", unionid), ("nickname", nickname), ("phone", phone)):
                if value is not None:
                    setattr(user, name, value)
            if follower and not user.follower:
                self._follow(user, "ADD_SCENE_OTHERS")
            elif follower is False:
                user.follower = False
            return replace(user)

    def user(self, appid: str, openid: str) -> User:
        """A copy of the user, or WeChat's 40003 for an openid the app never saw."""
        with self._lock:
            user = self._users.get((appid, openid))
            if user is None:
                raise WeChatError(40003)
            return replace(user)

    def follow(self, appid: str, openid: str | None = None) -> User:
        """A plain follow (from search or a profile card, not a QR code)."""
        with self._lock:
            user = self._ensure_user(appid, openid)
            if user.follower:
                raise ValueError(f"{user.openid} already follows {appid}")
            self._follow(user, "ADD_SCENE_OTHERS")
            return replace(user)

    def unfollow(self, appid: str, openid: str) -> User:
        """The user stops following the official account."""
        with self._lock:
            user = self._users.get((appid, openid))
            if user is None or not user.follower:
                raise ValueError(f"{openid} does not follow {appid}")
            user.follower = False
            return replace(user)

    # -- access tokens and quotas -------------------------------------------------------

    def issue_token(self, appid: str, secret: str) -> tuple[str, int]:
        """`/cgi-bin/token`: (access_token, expires_in), under the daily quota."""
        with self._lock:
            now = self.clock()
            self._check_secret(appid, secret)
            self._take_quota(appid, TOKEN_PATH, self.config.token_daily_limit, now)
            token = self._tokens.basic(appid, now, self.config.token_ttl, self.config.token_grace)
            return token.value, token.expires_in(now)

    def stable_token(self, appid: str, secret: str, force_refresh: bool) -> tuple[str, int]:
        """`/cgi-bin/stable_token`: (access_token, expires_in)."""
        with self._lock:
            now = self.clock()
            self._check_secret(appid, secret)
            if force_refresh:
                self._check_force_refresh(appid, now)
            token = self._tokens.stable(
                appid, now, self.config.token_ttl, self.config.token_grace, force_refresh
            )
            return token.value, token.expires_in(now)

    def app_for_token(self, access_token: str) -> App:
        """The app a live access token belongs to (40001 / 42001 otherwise)."""
        with self._lock:
            return self._apps[self._tokens.check(access_token, self.clock()).appid]

    def expire_tokens(self, appid: str) -> int:
        """Make the app's tokens expired now (42001 from then on); returns how many."""
        with self._lock:
            self.app(appid)
            return self._tokens.expire(appid, self.clock())

    def clear_quota(self, appid: str) -> None:
        """`/cgi-bin/clear_quota`: forget today's counted calls of the app."""
        with self._lock:
            for key in [key for key in self._quota if key[0] == appid]:
                del self._quota[key]

    def quota(self, appid: str, cgi_path: str) -> dict:
        """`/cgi-bin/openapi/quota/get` for the one path with a modelled daily limit."""
        if cgi_path != TOKEN_PATH:
            raise WeChatError(76021)
        with self._lock:
            used = self._quota[(appid, cgi_path, _china_day(self.clock()))]
            limit = self.config.token_daily_limit
            return {"daily_limit": limit, "used": used, "remain": max(0, limit - used)}

    # -- login, phone and OAuth codes ---------------------------------------------------

    def login_code(self, appid: str, openid: str | None = None) -> str:
        """The code `wx.login()` gives the mini-program (the user is created if needed)."""
        with self._lock:
            return self._new_code("login", self._ensure_user(appid, openid))

    def code_to_session(self, appid: str, secret: str, js_code: str) -> User:
        """`/sns/jscode2session`: redeem a login code; the user gets a new session_key."""
        with self._lock:
            self._check_secret(appid, secret)
            code = self._redeem("login", appid, js_code, used_errcode=40163)
            user = self._users[(appid, code.openid)]
            user.session_key = base64.b64encode(secrets.token_bytes(16)).decode()
            return replace(user)

    def phone_code(self, appid: str, openid: str, phone: str) -> str:
        """The code the phone-number button gives the mini-program for `phone`."""
        with self._lock:
            return self._new_code("phone", self._ensure_user(appid, openid), phone=phone)

    def redeem_phone_code(self, appid: str, code: str) -> str:
        """`getuserphonenumber`: the phone number behind a single-use code (40029 otherwise)."""
        with self._lock:
            redeemed = self._redeem("phone", appid, code, used_errcode=40029)
            self._users[(appid, redeemed.openid)].phone = redeemed.phone
            return redeemed.phone

    def set_oauth_user(self, appid: str, openid: str) -> User:
        """Choose who is "at the phone" when the app's OAuth page is opened."""
        with self._lock:
            user = self._ensure_user(appid, openid)
            self._oauth_users[appid] = user.openid
            return replace(user)

    def oauth_code(self, appid: str, scope: str, openid: str | None = None) -> str:
        """The code WeChat appends to the OAuth redirect for `openid` or the user at the phone."""
        with self._lock:
            chosen = openid or self._oauth_users.get(appid)
            user = self._ensure_user(appid, chosen)
            if chosen is None:
                self._oauth_users[appid] = user.openid
            return self._new_code("oauth", user, scope=scope)

    def oauth_access_token(self, appid: str, secret: str, code: str) -> OAuthGrant:
        """`/sns/oauth2/access_token`: redeem an OAuth code."""
        with self._lock:
            self._check_secret(appid, secret)
            redeemed = self._redeem("oauth", appid, code, used_errcode=40163)
            grant = OAuthGrant(
                access_token=secrets.token_urlsafe(64),
                refresh_token=secrets.token_urlsafe(64),
                appid=appid,
                openid=redeemed.openid,
                scope=redeemed.scope,
                expires_at=self.clock() + OAUTH_TOKEN_TTL,
                unionid=self._users[(appid, redeemed.openid)].unionid,
            )
            self._oauth_grants[grant.access_token] = grant
            return grant

    def oauth_userinfo(self, access_token: str, openid: str) -> User:
        """`/sns/userinfo`: the user behind an snsapi_userinfo OAuth token."""
        with self._lock:
            grant = self._oauth_grants.get(access_token)
            if grant is None:
                raise WeChatError(40001)
            if self.clock() >= grant.expires_at:
                raise WeChatError(42001)
            if grant.scope != "snsapi_userinfo":
                raise WeChatError(48001)
            if openid != grant.openid:
                raise WeChatError(40003)
            return replace(self._users[(grant.appid, grant.openid)])

    # -- QR tickets ---------------------------------------------------------------------

    def create_ticket(
        self,
        appid: str,
        action_name: str,
        scene_id: int | None = None,
        scene_str: str | None = None,
        expire_seconds: int | None = None,
    ) -> QrTicket:
        """A new ticket; a permanent scene minted before gets its old ticket back."""
        permanent = action_name.startswith("QR_LIMIT_")
        with self._lock:
            minted = self._permanent.setdefault(appid, {})
            if permanent and (scene_id, scene_str) in minted:
                return minted[(scene_id, scene_str)]
            if permanent and len(minted) >= self.config.permanent_qr_limit:
                raise WeChatError(45029)
            expires_at = None if permanent else self.clock() + expire_seconds
            qr = QrTicket(
                _new_ticket(), appid, action_name, scene_id, scene_str, _new_qr_url(), expires_at
            )
            self._tickets[qr.ticket] = qr
            if permanent:
                minted[(scene_id, scene_str)] = qr
            return qr

    def ticket(self, ticket: str) -> QrTicket | None:
        """The ticket, unless it is unknown or expired."""
        with self._lock:
            qr = self._tickets.get(ticket)
            if qr is None or (qr.expires_at is not None and self.clock() >= qr.expires_at):
                return None
            return qr

    def scan(
        self, appid: str, openid: str, ticket: str | None = None, scene: str | None = None
    ) -> tuple[QrTicket, bool]:
        """A user scans a QR code: (the ticket, whether the scan made them follow)."""
        with self._lock:
            qr = self._scanned_ticket(appid, ticket, scene)
            user = self._ensure_user(appid, openid)
            first_follow = not user.follower
            if first_follow:
                self._follow(user, "ADD_SCENE_QR_CODE", qr)
            return qr, first_follow

    # -- templates, credits and sends ---------------------------------------------------

    def add_template(
        self, appid: str, template_id: str, keys: dict[str, str], long_term: bool = False
    ) -> Template:
        """Register a template; `keys` maps each keyword (thing1, time2, ...) to its type."""
        if not isinstance(keys, dict):
            raise ValueError("keys must map keyword names to types")
        unknown = set(keys.values()) - set(keywords.RULES)
        if unknown:
            raise ValueError(f"unknown keyword types: {sorted(unknown)}")
        with self._lock:
            self.app(appid)
            template = Template(appid, template_id, dict(keys), bool(long_term))
            self._templates[(appid, template_id)] = template
            return template

    def answer_popup(self, appid: str, openid: str, results: dict[str, str]) -> None:
        """The user answers a subscribe popup: each "accept" adds one credit for its template."""
        if not isinstance(results, dict) or not set(results.values()) <= set(POPUP_ANSWERS):
            raise ValueError(f"popup answers must be one of {POPUP_ANSWERS}")
        with self._lock:
            self._known_templates(appid, results)
            user = self._ensure_user(appid, openid)
            for template_id, answer in results.items():
                if answer == "accept":
                    self._credits[(appid, user.openid, template_id)] += 1

    def refuse_subscription(self, appid: str, openid: str, template_id: str) -> None:
        """The user sets a template to "reject" in their settings: no credit is left."""
        with self._lock:
            self._known_templates(appid, [template_id])
            if (appid, openid) not in self._users:
                raise LookupError(f"unknown user {openid}")
            self._credits[(appid, openid, template_id)] = 0

    def credits(self, appid: str, openid: str, template_id: str) -> int:
        """Sends left for the user and template (for long-term ones: >0 means subscribed)."""
        with self._lock:
            return self._credits[(appid, openid, template_id)]

    def send(
        self,
        appid: str,
        openid: str,
        template_id: str,
        data: dict,
        api: str,
        require_credit: bool = False,
        require_follower: bool = False,
    ) -> int:
        """Check and record one message send; returns its msgid."""
        with self.changing():
            user = self._users.get((appid, openid))
            if user is None:
                raise WeChatError(40003)
            template = self._templates.get((appid, template_id))
            if template is None:
                raise WeChatError(40037)
            bad_key = keywords.invalid_key(template.keys, data)
            if bad_key:
                raise WeChatError(47003, f"argument invalid! data.{bad_key}.value invalid")
            if require_follower and not user.follower:
                raise WeChatError(43004)
            if require_credit:
                self._spend_credit(template, openid)
            msgid = next(self._msgids)
            self._sends.append(
                {
                    "appid": appid,
                    "openid": openid,
                    "template_id": template_id,
                    "msgid": msgid,
                    "data": data,
                    "api": api,
                    "at": self.clock(),
                }
            )
            return msgid

    def next_message_id(self) -> int:
        """A MsgId for a user's message to the app."""
        with self._lock:
            return next(self._message_ids)

    # -- content security ---------------------------------------------------------------

    def set_sec_words(self, risky: Iterable[str] = (), review: Iterable[str] = ()) -> None:
        """Words that make msg_sec_check answer `risky` or `review`."""
        with self._lock:
            self._sec_words = (tuple(risky), tuple(review))

    def sec_words(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(risky words, review words)."""
        with self._lock:
            return self._sec_words

    def set_risky_media(self, sha256s: Iterable[str]) -> None:
        """sha256 hex digests of media that media_check_async reports as `risky`."""
        with self._lock:
            self._risky_media = frozenset(digest.lower() for digest in sha256s)

    def risky_media(self) -> frozenset[str]:
        """The risky media digests."""
        with self._lock:
            return self._risky_media

    # -- faults -------------------------------------------------------------------------

    def add_fault(
        self,
        path: str,
        mode: str = "error",
        errcode: int = -1,
        times: int = 1,
        delay: float | None = None,
    ) -> Fault:
        """Misbehave on the next `times` calls of `path` (see docs/sandbox.md for the modes)."""
        fault = Fault(path, mode, errcode, times, delay)
        _check_fault(fault)
        with self._lock:
            self._faults.append(fault)
            return replace(fault)

    def claim_fault(self, path: str) -> Fault | None:
        """Take one use of the oldest fault for `path`, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.path == path:
                    fault.times -= 1
                    if not fault.times:
                        self._faults.remove(fault)
                    return replace(fault)
            return None

    def clear_faults(self) -> int:
        """Drop every fault; returns how many there were."""
        with self._lock:
            count, self._faults = len(self._faults), []
            return count

    # -- logs ---------------------------------------------------------------------------

    def log_request(self, entry: dict) -> None:
        """Append to the API request log (the oldest entries go past REQUEST_LOG_LIMIT)."""
        with self.changing():
            self._requests.append(entry)

    def requests(self) -> list[dict]:
        """The API request log, oldest first."""
        with self._lock:
            return list(self._requests)

    def add_push(self, record: "PushRecord") -> None:
        """Append a push record and number it."""
        with self.changing():
            self._pushes.append(record)
            record.id = len(self._pushes)

    def pushes(self) -> list["PushRecord"]:
        """The push records, oldest first."""
        with self._lock:
            return list(self._pushes)

    def sends(self) -> list[dict]:
        """Every successful message send, oldest first."""
        with self._lock:
            return list(self._sends)

    def add_media_check(self, entry: dict) -> None:
        """Track one media_check_async job; its entry is updated under `changing()`."""
        with self.changing():
            self._media_checks.append(entry)

    def media_checks(self) -> list[dict]:
        """The media_check_async jobs and how each ended."""
        with self._lock:
            return [dict(entry) for entry in self._media_checks]

    # -- internals (lock held) ----------------------------------------------------------

    def _clear_world(self) -> None:
        self._users: dict[tuple[str, str], User] = {}
        self._tokens = TokenBook()
        self._quota: Counter[tuple[str, str, str]] = Counter()
        self._last_forced: dict[str, float] = {}
        self._codes: dict[str, Code] = {}
        self._oauth_users: dict[str, str] = {}
        self._oauth_grants: dict[str, OAuthGrant] = {}
        self._tickets: dict[str, QrTicket] = {}
        self._permanent: dict[str, dict[tuple[int | None, str | None], QrTicket]] = {}
        self._templates: dict[tuple[str, str], Template] = {}
        self._credits: Counter[tuple[str, str, str]] = Counter()
        self._sec_words: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
        self._risky_media: frozenset[str] = frozenset()
        self._faults: list[Fault] = []
        self._requests: deque[dict] = deque(maxlen=REQUEST_LOG_LIMIT)
        self._pushes: list[PushRecord] = []
        self._sends: list[dict] = []
        self._media_checks: list[dict] = []
        self._msgids = itertools.count(2_000_000_001)
        self._message_ids = itertools.count(24_000_000_000_000_001)

    def _ensure_user(self, appid: str, openid: str | None) -> User:
        self.app(appid)
        openid = openid or _new_openid()
        return self._users.setdefault((appid, openid), User(appid, openid))

    def _follow(self, user: User, scene: str, qr: QrTicket | None = None) -> None:
        user.follower = True
        user.subscribe_time = int(self.clock())
        user.subscribe_scene = scene
        user.qr_scene = (qr and qr.scene_id) or 0
        user.qr_scene_str = (qr and qr.scene_str) or ""

    def _check_secret(self, appid: str, secret: str) -> None:
        if self.app(appid).secret != secret:
            raise WeChatError(40125)

    def _take_quota(self, appid: str, name: str, limit: int, now: float) -> None:
        key = (appid, name, _china_day(now))
        if self._quota[key] >= limit:
            raise WeChatError(45009)
        self._quota[key] += 1

    def _check_force_refresh(self, appid: str, now: float) -> None:
        last = self._last_forced.get(appid)
        if last is not None and now - last < FORCE_REFRESH_SPACING:
            raise WeChatError(45009)
        self._take_quota(appid, "stable_token force_refresh", FORCE_REFRESH_DAILY_LIMIT, now)
        self._last_forced[appid] = now

    def _new_code(self, kind: str, user: User, **details: str) -> str:
        value = secrets.token_hex(16)
        expires_at = self.clock() + CODE_TTL
        self._codes[value] = Code(kind, user.appid, user.openid, expires_at, **details)
        return value

    def _redeem(self, kind: str, appid: str, value: str, used_errcode: int) -> Code:
        code = self._codes.get(value)
        if code is None or code.kind != kind or code.appid != appid:
            raise WeChatError(40029)
        if code.used:
            raise WeChatError(used_errcode)
        if self.clock() >= code.expires_at:
            raise WeChatError(40029)
        code.used = True
        return code

    def _scanned_ticket(self, appid: str, ticket: str | None, scene: str | None) -> QrTicket:
        if ticket is not None:
            qr = self.ticket(ticket)
        elif scene is not None:
            qr = self._latest_ticket(appid, str(scene))
        else:
            raise ValueError("a scan needs a ticket or a scene")
        if qr is None or qr.appid != appid:
            raise LookupError(f"no live QR ticket of {appid} for {ticket or scene}")
        return qr

    def _latest_ticket(self, appid: str, scene: str) -> QrTicket | None:
        for qr in reversed(self._tickets.values()):
            if qr.appid == appid and qr.scene == scene and self.ticket(qr.ticket):
                return qr
        return None

    def _known_templates(self, appid: str, template_ids: Iterable[str]) -> None:
        for template_id in template_ids:
            if (appid, template_id) not in self._templates:
                raise LookupError(f"unknown template {template_id} of {appid}")

    def _spend_credit(self, template: Template, openid: str) -> None:
        key = (template.appid, openid, template.template_id)
        if self._credits[key] < 1:
            raise WeChatError(43101)
        if not template.long_term:
            self._credits[key] -= 1


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


def _check_fault(fault: Fault) -> None:
    if fault.mode not in FAULT_MODES:
        raise ValueError(f"mode must be one of {FAULT_MODES}")
    if not isinstance(fault.errcode, int):
        raise ValueError("errcode must be a whole number")
    if not isinstance(fault.times, int) or fault.times < 1:
        raise ValueError("times must be a whole number, at least 1")
    if fault.mode == "delay" and fault.delay is None:
        raise ValueError("a delay fault needs a delay")
    if fault.delay is not None and not (isinstance(fault.delay, int | float) and fault.delay >= 0):
        raise ValueError("delay must be a number of seconds")


def _china_day(now: float) -> str:
    """WeChat's daily quotas reset at midnight Beijing time."""
    return time.strftime("%Y-%m-%d", time.gmtime(now + CHINA_UTC_OFFSET))


def _new_openid() -> str:
    return "o" + secrets.token_urlsafe(21)[:27]


def _new_original_id() -> str:
    return "gh_" + secrets.token_hex(6)


def _new_ticket() -> str:
    """Real tickets are base64 with "+", "/" and "=", so callers must URL-encode them."""
    return "gQ" + base64.b64encode(secrets.token_bytes(60)).decode()


def _new_qr_url() -> str:
    return "http://weixin.qq.com/q/" + secrets.token_urlsafe(16)
