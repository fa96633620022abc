"""Delivering events to an app's callback URL the way WeChat's servers do.

A push is one signed (and in safe mode encrypted) request, POSTed up to three times: WeChat
waits `push_timeout` seconds (5 s for real) per attempt and sends the very same request again
when an attempt times out, gets a non-2xx status, or gets an answer other than `success`, an
empty body or a valid passive reply. In safe mode a passive reply must itself be a valid
envelope: its MsgSignature is checked and it is decrypted, appid included. Every attempt is
recorded with the decrypted reply, so tests can assert what the service answered and how often
it was asked. Deliveries run on daemon threads; `PushRecord.wait()` blocks until they end.
"""

import secrets
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field

import requests

from . import events
from .envelope import Envelope, signature, signature_matches
from .records import App
from .state import SandboxState

MAX_ATTEMPTS = 3
CONTENT_TYPES = {"xml": "text/xml", "json": "application/json"}
ACCEPTED_PLAIN_REPLIES = ("", "success")


@dataclass
class PushRequest:
    """The exact request WeChat sends, identical on every attempt."""

    url: str
    params: dict[str, str]
    body: str
    content_type: str


@dataclass
class Attempt:
    """One POST of a push and what came of it.

    `reply` is the callback's answer (a passive reply decrypted when it was accepted) and
    `error` why WeChat would retry after it; `status` is None when no answer came in time.
    """

    number: int
    status: int | None
    elapsed: float
    accepted: bool
    reply: str | None = None
    error: str | None = None


@dataclass(eq=False)
class PushRecord:
    """A push and its attempts; `outcome` ends as accepted, failed or no_callback."""

    appid: str
    event: dict
    request: PushRequest | None
    id: int = 0
    attempts: list[Attempt] = field(default_factory=list)
    outcome: str = "pending"
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the last attempt ended; False if `timeout` passed first."""
        return self.done.wait(timeout)

    def as_dict(self) -> dict:
        """JSON-ready, for `/__admin/pushes` and the user-action endpoints."""
        return {
            "id": self.id,
            "appid": self.appid,
            "event": self.event,
            "request": self.request and asdict(self.request),
            "attempts": [asdict(attempt) for attempt in list(self.attempts)],
            "outcome": self.outcome,
        }


def push_event(state: SandboxState, appid: str, event: dict, wait: bool = False) -> PushRecord:
    """Push `event` to the app's callback on a background thread (or record that it has none)."""
    app = state.app(appid)
    request = build_request(app, event) if app.callback_url else None
    record = PushRecord(appid, event, request)
    state.add_push(record)
    if request is None:
        _finish(state, record, "no_callback")
    else:
        threading.Thread(target=_deliver, args=(state, app, record), daemon=True).start()
    if wait:
        record.wait()
    return record


def build_request(app: App, event: dict) -> PushRequest:
    """Sign (and in safe mode encrypt) an event for the app's callback."""
    params = _signed_query(app.token)
    if event.get("FromUserName"):
        params["openid"] = event["FromUserName"]
    plaintext = events.render(event, app.push_format)
    if app.mode == "plain":
        body = plaintext
    else:
        envelope = Envelope(app.token, app.aes_key, app.appid)
        encrypted = envelope.encrypt(plaintext)
        params["encrypt_type"] = "aes"
        params["msg_signature"] = envelope.sign(params["timestamp"], params["nonce"], encrypted)
        body = events.encrypted_body(app.original_id, encrypted, app.push_format)
    return PushRequest(app.callback_url, params, body, CONTENT_TYPES[app.push_format])


class RejectedReply(Exception):
    """An answer after which WeChat would retry (and show the user an error)."""


def accepted_reply(app: App, status: int, text: str) -> str:
    """The callback's answer as WeChat accepts it (passive replies decrypted), or RejectedReply."""
    if not 200 <= status < 300:
        raise RejectedReply(f"HTTP {status}")
    if text in ACCEPTED_PLAIN_REPLIES:
        return text
    if app.push_format == "json":
        raise RejectedReply("JSON pushes accept only 'success' or an empty body")
    try:
        return open_passive_reply(app, text)
    except ValueError as exc:
        raise RejectedReply(f"not a valid passive reply: {exc}") from exc


def open_passive_reply(app: App, text: str) -> str:
    """The passive reply's XML, decrypted and verified in safe mode; ValueError if invalid."""
    fields = _xml_fields(text)
    if app.mode == "safe":
        encrypted, signed, timestamp, nonce = (
            fields.get(name, "") for name in ("Encrypt", "MsgSignature", "TimeStamp", "Nonce")
        )
        if not (encrypted and signed and timestamp and nonce):
            raise ValueError("needs Encrypt, MsgSignature, TimeStamp and Nonce")
        if not signature_matches(signed, app.token, timestamp, nonce, encrypted):
            raise ValueError("MsgSignature does not match")
        text = Envelope(app.token, app.aes_key, app.appid).decrypt(encrypted)
        fields = _xml_fields(text)
    if not fields.get("MsgType"):
        raise ValueError("no MsgType")
    return text


def verify_url(app: App, timeout: float) -> dict:
    """WeChat's URL check: GET with signature, timestamp, nonce and echostr; expect echostr back."""
    echostr = str(secrets.randbits(63))
    params = {**_signed_query(app.token), "echostr": echostr}
    try:
        response = requests.get(app.callback_url, params=params, timeout=timeout)
    except requests.RequestException as exc:
        return {"ok": False, "echostr": echostr, "status": None, "error": str(exc)}
    ok = response.status_code == 200 and response.text == echostr
    return {"ok": ok, "echostr": echostr, "status": response.status_code, "reply": response.text}


def _deliver(state: SandboxState, app: App, record: PushRecord) -> None:
    outcome = "failed"
    try:
        for number in range(1, MAX_ATTEMPTS + 1):
            attempt = _attempt(app, record.request, number, state.config.push_timeout)
            with state.changing():
                record.attempts.append(attempt)
            if attempt.accepted:
                outcome = "accepted"
                break
    finally:
        _finish(state, record, outcome)


def _attempt(app: App, request: PushRequest, number: int, timeout: float) -> Attempt:
    started = time.monotonic()
    try:
        response = requests.post(
            request.url,
            params=request.params,
            data=request.body.encode(),
            headers={"Content-Type": request.content_type},
            timeout=timeout,
        )
    except requests.RequestException as exc:
        return Attempt(number, None, time.monotonic() - started, False, error=str(exc))
    elapsed = time.monotonic() - started
    text = response.content.decode("utf-8", "replace")
    try:
        reply = accepted_reply(app, response.status_code, text)
    except RejectedReply as exc:
        return Attempt(number, response.status_code, elapsed, False, text, str(exc))
    return Attempt(number, response.status_code, elapsed, True, reply)


def _signed_query(token: str) -> dict[str, str]:
    """signature, timestamp and nonce: what every request from WeChat carries."""
    timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
    return {"signature": signature(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}


def _finish(state: SandboxState, record: PushRecord, outcome: str) -> None:
    with state.changing():
        record.outcome = outcome
        record.done.set()


def _xml_fields(text: str) -> dict[str, str]:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError(f"not XML ({exc})") from exc
    if root.tag != "xml":
        raise ValueError("root element is not <xml>")
    return {child.tag: (child.text or "") for child in root}
