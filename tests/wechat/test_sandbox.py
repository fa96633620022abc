"""The WeChat sandbox over a real socket, driven by wechatpy 1.8.18's real client code.

Pushes land on a small local HTTP server that checks signatures and decrypts with wechatpy's
WeChatCrypto, an implementation independent of the sandbox's own envelope code.
"""

import hashlib
import io
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
import requests
import xmltodict
from PIL import Image
from requests.adapters import HTTPAdapter
from wechatpy import WeChatClient
from wechatpy.client.api import WeChatQRCode
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import WeChatClientException, WeChatOAuthException
from wechatpy.oauth import WeChatOAuth
from wechatpy.utils import check_signature

from wechat.sandbox.envelope import Envelope, EnvelopeError
from wechat.sandbox.errors import WeChatError
from wechat.sandbox.records import DEFAULT_PAGE
from wechat.sandbox.server import Sandbox
from wechat.sandbox.state import SandboxState

REPO = Path(__file__).resolve().parents[2]
# WeChat's own 5 s: a stalled test process (a full collection late in the suite takes 0.5 s)
# must not turn a push that should succeed at once into a retry. Only the test of the timeout
# itself shortens it, to SHORT_PUSH_TIMEOUT.
PUSH_TIMEOUT = 5.0
SHORT_PUSH_TIMEOUT = 0.3
MP = {
    "kind": "mp",
    "appid": "wx1111111111111111",
    "secret": "mp-secret",
    "token": "mp-token",
    "aes_key": "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
}
WXA = {
    "kind": "wxa",
    "appid": "wx2222222222222222",
    "secret": "wxa-secret",
    "token": "wxa-token",
    "aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
}
ONE_TIME = "tmpl-deadline"
THING_TIME = {"thing1": "thing", "time2": "time"}
NOTICE = {"thing1": {"value": "征集即将截止"}, "time2": {"value": "2021年10月31日 23:59"}}
WECHAT_HOSTS = (
    "https://api.weixin.qq.com",
    "https://mp.weixin.qq.com",
    "https://open.weixin.qq.com",
)


# -- wiring -----------------------------------------------------------------------------


class ToSandbox(HTTPAdapter):
    """Sends requests for WeChat's hosts to the sandbox (WECHAT-NOTES, option B)."""

    def __init__(self, base: str):
        super().__init__()
        self.base = base

    def send(self, request, **kwargs):
        for host in WECHAT_HOSTS:
            if request.url.startswith(host):
                request.url = self.base + request.url[len(host) :]
        return super().send(request, **kwargs)


def point_at_sandbox(session: requests.Session, base: str) -> None:
    adapter = ToSandbox(base)
    for host in WECHAT_HOSTS:
        session.mount(host + "/", adapter)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A slow answer meets a connection the sandbox already dropped: expected here."""


class Receiver:
    """The service's callback endpoint: records every request and answers as told."""

    def __init__(self, app: dict):
        self.app = app
        self.crypto = WeChatCrypto(app["token"], app["aes_key"], app["appid"])
        self.received: list[tuple[dict, str]] = []
        self.status, self.reply, self.delay = 200, "success", 0.0
        self.media = b""
        self._closed = threading.Event()
        self._server = _QuietServer(("127.0.0.1", 0), _handler(self))
        serve = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        serve.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/wechat"

    def close(self) -> None:
        self._closed.set()  # a delayed answer goes out now, not seconds after the test
        self._server.shutdown()
        self._server.server_close()

    def message(self, index: int = -1) -> dict:
        """The index-th push, signature-checked and decrypted with wechatpy."""
        query, body = self.received[index]
        timestamp, nonce = query["timestamp"], query["nonce"]
        check_signature(self.app["token"], query["signature"], timestamp, nonce)
        if query.get("encrypt_type") == "aes":
            envelope = json.loads(body) if body.startswith("{") else body
            body = self.crypto.decrypt_message(envelope, query["msg_signature"], timestamp, nonce)
        return json.loads(body) if body.startswith("{") else xmltodict.parse(body)["xml"]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            receiver.received.append((dict(parse_qsl(urlsplit(self.path).query)), body))
            receiver._closed.wait(receiver.delay)
            self._answer(receiver.status, receiver.reply.encode())

        def do_GET(self):
            query = dict(parse_qsl(urlsplit(self.path).query))
            self._answer(200, query["echostr"].encode() if "echostr" in query else receiver.media)

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture(scope="module")
def sandbox_server():
    with Sandbox(push_timeout=PUSH_TIMEOUT, token_grace=0) as sandbox:
        yield sandbox


@pytest.fixture
def fresh_sandbox(sandbox_server):
    """The module's sandbox, reset for this test: both apps, no callbacks, test settings."""
    state = sandbox_server.state
    state.reset()
    state.add_app(**MP)
    state.add_app(**WXA)
    state.set_pages(WXA["appid"], [DEFAULT_PAGE])
    return sandbox_server


@pytest.fixture
def state(fresh_sandbox):
    return fresh_sandbox.state


@pytest.fixture
def http(fresh_sandbox):
    with requests.Session() as session:
        yield session


@pytest.fixture
def clients(fresh_sandbox):
    """wechatpy clients pointed at the sandbox, auto_retry off so errors surface."""
    sessions = []

    def make(app: dict, **options) -> WeChatClient:
        client = WeChatClient(app["appid"], app["secret"], auto_retry=False, **options)
        point_at_sandbox(client._http, fresh_sandbox.url)
        sessions.append(client._http)
        return client

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def mp_client(clients):
    return clients(MP)


@pytest.fixture
def wxa_client(clients):
    return clients(WXA)


@pytest.fixture
def callback(fresh_sandbox):
    """callback(app, **settings) starts a receiver and makes it the app's callback URL."""
    receivers = []

    def attach(app: dict, **settings) -> Receiver:
        receiver = Receiver(app)
        receivers.append(receiver)
        fresh_sandbox.state.add_app(**app, callback_url=receiver.url, **settings)
        return receiver

    yield attach
    for receiver in receivers:
        receiver.close()


def errcode_of(excinfo: pytest.ExceptionInfo) -> int:
    return excinfo.value.errcode


def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll `predicate` until it holds; False if `timeout` passed first."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


# -- the envelope -----------------------------------------------------------------------

VECTOR_TOKEN, VECTOR_NONCE, VECTOR_TIMESTAMP = "123456", "461056294", "1411525903"
VECTOR_APPID = "wx49f0ab532d5d035a"


def test_envelope_matches_wechatpys_published_vectors():
    """The vectors of wechatpy's tests/test_crypto.py (the same envelope, enterprise flavour)."""
    envelope = Envelope(VECTOR_TOKEN, MP["aes_key"], VECTOR_APPID)
    reply = (
        "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n"
        "<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n"
        "<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n"
        "<CreateTime>1411525903</CreateTime>\n</xml>"
    )
    sealed = envelope.encrypt(reply, prefix="1234567890123456")
    assert sealed == (
        "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgN"
        "cBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF"
        "5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7m"
        "uXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3k"
        "FxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
    )
    signed = envelope.sign(VECTOR_TIMESTAMP, VECTOR_NONCE, sealed)
    assert signed == "407518b7649e86ef23978113f92d27afa9296533"

    inbound = (
        "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHC"
        "rsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXp"
        "XaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkV"
        "QiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAP"
        "OQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0="
    )
    signed = envelope.sign(VECTOR_TIMESTAMP, VECTOR_NONCE, inbound)
    assert signed == "74d92dfeb87ba7c714f89d98870ae5eb62dff26d"
    assert "<Content><![CDATA[test]]></Content>" in envelope.decrypt(inbound)


def test_envelope_round_trips_with_wechatpy_in_both_directions():
    envelope = Envelope(MP["token"], MP["aes_key"], MP["appid"])
    crypto = WeChatCrypto(MP["token"], MP["aes_key"], MP["appid"])
    message = "<xml><Content><![CDATA[征集 ]]]]><![CDATA[> ok]]></Content></xml>"

    sealed = envelope.encrypt(message)
    inbound = {"Encrypt": sealed}
    signed = envelope.sign("1700000000", "42", sealed)
    assert crypto.decrypt_message(inbound, signed, "1700000000", "42") == message

    reply = xmltodict.parse(crypto.encrypt_message(message, "43", "1700000001"))["xml"]
    assert envelope.sign("1700000001", "43", reply["Encrypt"]) == reply["MsgSignature"]
    assert envelope.decrypt(reply["Encrypt"]) == message

    with pytest.raises(EnvelopeError, match="appid"):
        Envelope(MP["token"], MP["aes_key"], WXA["appid"]).decrypt(sealed)
    with pytest.raises(EnvelopeError):
        envelope.decrypt(sealed[:-8] + "AAAAAAA=")


# -- endpoints through wechatpy ---------------------------------------------------------


def test_token_and_follower_info(state, mp_client):
    follower = state.add_user(MP["appid"], unionid="union-1", follower=True)
    visitor = state.add_user(MP["appid"])

    info = mp_client.user.get(follower.openid)
    assert info["subscribe"] == 1 and info["unionid"] == "union-1"
    assert info["subscribe_scene"] == "ADD_SCENE_OTHERS"
    assert mp_client.user.get(visitor.openid) == {"subscribe": 0, "openid": visitor.openid}
    with pytest.raises(WeChatClientException) as excinfo:
        mp_client.user.get("o-unknown")
    assert errcode_of(excinfo) == 40003
    assert "rid: " in excinfo.value.errmsg
    token_calls = [entry for entry in state.requests() if entry["path"] == "/cgi-bin/token"]
    assert len(token_calls) == 1


def test_jscode2session_codes_are_single_use(state, wxa_client):
    user = state.add_user(WXA["appid"], unionid="union-2")
    code = state.login_code(WXA["appid"], user.openid)

    session = wxa_client.wxa.code_to_session(code)
    assert session["openid"] == user.openid and session["unionid"] == "union-2"
    assert len(session["session_key"]) == 24
    with pytest.raises(WeChatClientException) as excinfo:
        wxa_client.wxa.code_to_session(code)
    assert errcode_of(excinfo) == 40163
    with pytest.raises(WeChatClientException) as excinfo:
        wxa_client.wxa.code_to_session("not-a-code")
    assert errcode_of(excinfo) == 40029


def test_phone_number_codes_are_single_use(state, wxa_client):
    user = state.add_user(WXA["appid"])
    code = state.phone_code(WXA["appid"], user.openid, "13800138000")
    url = "https://api.weixin.qq.com/wxa/business/getuserphonenumber"

    info = wxa_client.post(url, data={"code": code})["phone_info"]
    assert info["purePhoneNumber"] == "13800138000" and info["countryCode"] == "86"
    assert info["watermark"]["appid"] == WXA["appid"]
    with pytest.raises(WeChatClientException) as excinfo:
        wxa_client.post(url, data={"code": code})
    assert errcode_of(excinfo) == 40029


def test_parametric_qrcode_create_and_show(state, mp_client):
    temporary = mp_client.qrcode.create(
        {"action_name": "QR_STR_SCENE", "action_info": {"scene": {"scene_str": "c=abc"}}}
    )
    assert temporary["expire_seconds"] == 60
    assert temporary["url"].startswith("http://weixin.qq.com/q/")

    permanent = {"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 7}}}
    first = mp_client.qrcode.create(permanent)
    assert "expire_seconds" not in first
    assert mp_client.qrcode.create(permanent)["ticket"] == first["ticket"]

    image = mp_client._http.get(WeChatQRCode.get_url(temporary))
    assert image.headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).format == "PNG"
    assert mp_client._http.get(WeChatQRCode.get_url("gQ-unknown")).status_code == 404

    state.configure(permanent_qr_limit=1)
    assert mp_client.qrcode.create(permanent)["ticket"] == first["ticket"]
    with pytest.raises(WeChatClientException) as excinfo:
        mp_client.qrcode.create({**permanent, "action_info": {"scene": {"scene_id": 8}}})
    assert errcode_of(excinfo) == 45029

    for bad_scene in ({"scene_id": 100_001}, {"scene_str": ""}, {}):
        invalid = {"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": bad_scene}}
        if "scene_str" in bad_scene:
            invalid["action_name"] = "QR_LIMIT_STR_SCENE"
        with pytest.raises(WeChatClientException) as excinfo:
            mp_client.qrcode.create(invalid)
        assert errcode_of(excinfo) == 40053


def test_wxacode_unlimited_is_a_jpeg_or_a_json_error(wxa_client):
    image = wxa_client.wxa.get_wxa_code_unlimited("c=abc", page=DEFAULT_PAGE, width=280)
    assert image.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(image.content)).size == (280, 280)

    for scene in ("", "x" * 33, "中文"):
        with pytest.raises(WeChatClientException) as excinfo:
            wxa_client.wxa.get_wxa_code_unlimited(scene)
        assert errcode_of(excinfo) == 40169
    with pytest.raises(WeChatClientException) as excinfo:
        wxa_client.wxa.get_wxa_code_unlimited("c=abc", page="pages/unpublished/index")
    assert errcode_of(excinfo) == 41030
    unchecked = {"scene": "c=abc", "page": "pages/unpublished/index", "check_path": False}
    response = wxa_client.post("https://api.weixin.qq.com/wxa/getwxacodeunlimit", data=unchecked)
    assert response.headers["Content-Type"] == "image/jpeg"


def test_subscribe_send_spends_one_credit_per_message(state, wxa_client, fresh_sandbox):
    state.add_template(WXA["appid"], ONE_TIME, THING_TIME)
    openid = state.add_user(WXA["appid"]).openid
    send = wxa_client.wxa.send_subscribe_message

    with pytest.raises(WeChatClientException) as excinfo:
        send(openid, ONE_TIME, NOTICE)
    assert errcode_of(excinfo) == 43101
    popup = fresh_sandbox.actions.subscribe_popup(
        WXA["appid"], openid, {ONE_TIME: "accept"}, wait=True
    )
    assert popup.outcome == "no_callback"
    assert send(openid, ONE_TIME, NOTICE)["msgid"]
    with pytest.raises(WeChatClientException) as excinfo:
        send(openid, ONE_TIME, NOTICE)
    assert errcode_of(excinfo) == 43101

    fresh_sandbox.actions.subscribe_popup(WXA["appid"], openid, {ONE_TIME: "accept"})
    too_long = {**NOTICE, "thing1": {"value": "字" * 21}}
    with pytest.raises(WeChatClientException) as excinfo:
        send(openid, ONE_TIME, too_long)
    assert errcode_of(excinfo) == 47003
    assert "data.thing1.value invalid" in excinfo.value.errmsg
    with pytest.raises(WeChatClientException) as excinfo:
        send(openid, "tmpl-unknown", NOTICE)
    assert errcode_of(excinfo) == 40037
    assert [(s["openid"], s["template_id"]) for s in state.sends()] == [(openid, ONE_TIME)]
    assert state.credits(WXA["appid"], openid, ONE_TIME) == 1


def test_bizsend_with_a_long_term_template_keeps_the_credit(state, mp_client, fresh_sandbox):
    state.add_template(MP["appid"], "tmpl-list", {"thing1": "thing"}, long_term=True)
    openid = state.add_user(MP["appid"], follower=True).openid
    data = {"thing1": {"value": "名单已公布"}}
    send = mp_client.message.send_subscribe_message

    with pytest.raises(WeChatClientException) as excinfo:
        send(openid, "tmpl-list", data)
    assert errcode_of(excinfo) == 43101
    fresh_sandbox.actions.subscribe_popup(MP["appid"], openid, {"tmpl-list": "accept"}, scene=1)
    assert send(openid, "tmpl-list", data)["msgid"] != send(openid, "tmpl-list", data)["msgid"]
    assert state.credits(MP["appid"], openid, "tmpl-list") == 1
    assert {entry["api"] for entry in state.sends()} == {"subscribe/bizsend"}


def test_template_send_needs_a_follower_and_reports_delivery(state, mp_client, callback):
    receiver = callback(MP)
    state.configure(template_finish_delay=0.05)
    state.add_template(MP["appid"], "tmpl-progress", {"thing1": "thing"})
    data = {"thing1": {"value": "已受理"}}
    visitor = state.add_user(MP["appid"]).openid
    follower = state.add_user(MP["appid"], follower=True).openid

    with pytest.raises(WeChatClientException) as excinfo:
        mp_client.message.send_template(visitor, "tmpl-progress", data)
    assert errcode_of(excinfo) == 43004
    msgid = mp_client.message.send_template(follower, "tmpl-progress", data)["msgid"]

    assert state.wait_until(lambda: any(p.done.is_set() for p in state.pushes()))
    event = receiver.message()
    assert event["Event"] == "TEMPLATESENDJOBFINISH" and event["Status"] == "success"
    assert (event["MsgID"], event["FromUserName"]) == (str(msgid), follower)


def test_msg_sec_check_v2_and_v1(state, wxa_client):
    state.set_sec_words(risky=["赌博"], review=["敏感"])
    openid = state.add_user(WXA["appid"]).openid
    url = "https://api.weixin.qq.com/wxa/msg_sec_check"

    def check(content: str) -> dict:
        return wxa_client.post(
            url, data={"content": content, "version": 2, "scene": 2, "openid": openid}
        )

    assert check("党建品牌")["result"] == {"suggest": "pass", "label": 100}
    assert check("有些敏感")["result"]["suggest"] == "review"
    risky = check("网络赌博")
    assert risky["result"] == {"suggest": "risky", "label": 20001}
    assert risky["detail"][0]["keyword"] == "赌博" and risky["trace_id"]
    for bad in ({"content": "x" * 2501}, {"scene": 5}, {"openid": "o-unknown"}):
        body = {"content": "x", "version": 2, "scene": 2, "openid": openid, **bad}
        with pytest.raises(WeChatClientException) as excinfo:
            wxa_client.post(url, data=body)
        assert errcode_of(excinfo) == (40003 if "openid" in bad else 47001)

    assert wxa_client.wxa.check_text_security("有些敏感")["errcode"] == 0
    with pytest.raises(WeChatClientException) as excinfo:
        wxa_client.wxa.check_text_security("网络赌博")
    assert errcode_of(excinfo) == 87014


def test_web_oauth_authorize_token_and_userinfo(state, fresh_sandbox):
    user = state.add_user(MP["appid"], nickname="张三", unionid="union-3")
    state.set_oauth_user(MP["appid"], user.openid)
    oauth = WeChatOAuth(MP["appid"], MP["secret"], "https://svc.example/cb?x=1", "snsapi_userinfo")
    oauth.state = "csrf-1"
    point_at_sandbox(oauth._http, fresh_sandbox.url)
    with oauth._http:
        redirect = oauth._http.get(oauth.authorize_url, allow_redirects=False)
        assert redirect.status_code == 302
        target = urlsplit(redirect.headers["Location"])
        query = parse_qs(target.query)
        assert target.netloc == "svc.example" and query["state"] == ["csrf-1"]

        grant = oauth.fetch_access_token(query["code"][0])
        assert (grant["openid"], grant["scope"]) == (user.openid, "snsapi_userinfo")
        profile = oauth.get_user_info()
        assert (profile["nickname"], profile["unionid"]) == ("张三", "union-3")
        with pytest.raises(WeChatOAuthException) as excinfo:
            oauth.fetch_access_token(query["code"][0])
        assert errcode_of(excinfo) == 40163

        oauth.scope = "snsapi_base"
        other = oauth._http.get(
            oauth.authorize_url, headers={"X-Sandbox-Openid": "o-other"}, allow_redirects=False
        )
        code = parse_qs(urlsplit(other.headers["Location"]).query)["code"][0]
        assert oauth.fetch_access_token(code)["openid"] == "o-other"
        with pytest.raises(WeChatOAuthException) as excinfo:
            oauth.get_user_info()
        assert errcode_of(excinfo) == 48001


def test_media_check_async_pushes_the_verdict_after_downloading(state, wxa_client, callback):
    receiver = callback(WXA)
    receiver.media = b"\x89PNG evidence photo"
    state.set_risky_media([hashlib.sha256(receiver.media).hexdigest()])
    openid = state.add_user(WXA["appid"]).openid
    url = "https://api.weixin.qq.com/wxa/media_check_async"
    job = {"media_type": 2, "version": 2, "scene": 1, "openid": openid}

    trace_id = wxa_client.post(url, data={**job, "media_url": receiver.url + "/m.png"})["trace_id"]
    assert state.wait_until(lambda: state.media_checks()[0]["status"] == "pushed")
    state.pushes()[0].wait(5)
    event = receiver.message()
    assert (event["Event"], event["trace_id"], event["version"]) == (
        "wxa_media_check",
        trace_id,
        "2",
    )
    assert event["result"] == {"suggest": "risky", "label": "20001"}

    wxa_client.post(url, data={**job, "media_url": "http://127.0.0.1:9/gone.png"})
    assert state.wait_until(lambda: state.media_checks()[1]["status"] == "download_failed")
    assert len(state.pushes()) == 1


# -- access tokens ----------------------------------------------------------------------


TOKEN_QUERY = {"grant_type": "client_credential", "appid": MP["appid"], "secret": MP["secret"]}


def _token(http: requests.Session, sandbox: Sandbox) -> str:
    """A /cgi-bin/token token of the official account."""
    return http.get(sandbox.url + "/cgi-bin/token", params=TOKEN_QUERY).json()["access_token"]


def _stable_token(http: requests.Session, sandbox: Sandbox, force_refresh: bool = False) -> dict:
    body = {**TOKEN_QUERY, "force_refresh": force_refresh}
    return http.post(sandbox.url + "/cgi-bin/stable_token", json=body).json()


def _errcode_with(http: requests.Session, sandbox: Sandbox, access_token: str | None) -> int:
    """The errcode of a user/info call made with `access_token` (0 when it worked)."""
    params = {"openid": sandbox.state.add_user(MP["appid"]).openid}
    if access_token:
        params["access_token"] = access_token
    return http.get(sandbox.url + "/cgi-bin/user/info", params=params).json().get("errcode", 0)


def test_a_new_token_kills_the_previous_one_after_the_grace(http, fresh_sandbox):
    first, second = _token(http, fresh_sandbox), _token(http, fresh_sandbox)
    assert _errcode_with(http, fresh_sandbox, first) == 40001
    assert _errcode_with(http, fresh_sandbox, second) == 0

    fresh_sandbox.state.configure(token_grace=60)
    third = _token(http, fresh_sandbox)
    assert _errcode_with(http, fresh_sandbox, second) == 0
    assert _errcode_with(http, fresh_sandbox, third) == 0


def test_missing_unknown_and_expired_tokens(http, fresh_sandbox):
    access_token = _token(http, fresh_sandbox)
    assert _errcode_with(http, fresh_sandbox, None) == 41001
    assert _errcode_with(http, fresh_sandbox, "forged") == 40001
    assert fresh_sandbox.state.expire_tokens(MP["appid"]) == 1
    assert _errcode_with(http, fresh_sandbox, access_token) == 42001


def test_bad_token_requests(http, fresh_sandbox):
    url = fresh_sandbox.url + "/cgi-bin/token"
    for change, errcode in (
        ({"grant_type": "password"}, 40002),
        ({"appid": "wx-unknown"}, 40013),
        ({"secret": "wrong"}, 40125),
    ):
        assert http.get(url, params={**TOKEN_QUERY, **change}).json()["errcode"] == errcode


def test_stable_token_is_stable_isolated_and_force_refresh_is_limited(http, fresh_sandbox):
    stable = _stable_token(http, fresh_sandbox)
    assert stable["access_token"] == _stable_token(http, fresh_sandbox)["access_token"]
    assert stable["expires_in"] > 7000
    _token(http, fresh_sandbox)
    assert _errcode_with(http, fresh_sandbox, stable["access_token"]) == 0

    refreshed = _stable_token(http, fresh_sandbox, force_refresh=True)
    assert refreshed["access_token"] != stable["access_token"]
    assert _errcode_with(http, fresh_sandbox, stable["access_token"]) == 40001
    assert _stable_token(http, fresh_sandbox, force_refresh=True)["errcode"] == 45009
    assert _stable_token(http, fresh_sandbox)["access_token"] == refreshed["access_token"]


def test_stable_token_is_renewed_in_its_last_five_minutes():
    now = [1_700_000_000.0]
    state = SandboxState(clock=lambda: now[0])
    state.add_app(**MP)
    first, expires_in = state.stable_token(MP["appid"], MP["secret"], force_refresh=False)
    assert expires_in == 7200

    now[0] += 7200 - 301
    assert state.stable_token(MP["appid"], MP["secret"], False) == (first, 301)
    now[0] += 2
    second, expires_in = state.stable_token(MP["appid"], MP["secret"], False)
    assert second != first and expires_in == 7200
    assert state.app_for_token(first).appid == MP["appid"]
    now[0] += 300
    with pytest.raises(WeChatError) as excinfo:
        state.app_for_token(first)
    assert errcode_of(excinfo) == 42001


def test_token_daily_limit_and_clear_quota(http, fresh_sandbox):
    fresh_sandbox.state.configure(token_daily_limit=2)
    _token(http, fresh_sandbox)
    latest = {"access_token": _token(http, fresh_sandbox)}
    token_url = fresh_sandbox.url + "/cgi-bin/token"
    assert http.get(token_url, params=TOKEN_QUERY).json()["errcode"] == 45009

    quota = http.post(
        fresh_sandbox.url + "/cgi-bin/openapi/quota/get",
        params=latest,
        json={"cgi_path": "/cgi-bin/token"},
    )
    assert quota.json()["quota"] == {"daily_limit": 2, "used": 2, "remain": 0}
    clear = {"appid": MP["appid"]}
    assert http.post(
        fresh_sandbox.url + "/cgi-bin/clear_quota", params=latest, json=clear
    ).json() == {
        "errcode": 0,
        "errmsg": "ok",
    }
    assert _token(http, fresh_sandbox)


# -- pushes -----------------------------------------------------------------------------


def test_a_scan_pushes_subscribe_then_scan(state, mp_client, fresh_sandbox, callback):
    receiver = callback(MP)
    qr = mp_client.qrcode.create(
        {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": "c=abc"}}}
    )
    first = fresh_sandbox.actions.scan(MP["appid"], "o-scanner", ticket=qr["ticket"], wait=True)
    second = fresh_sandbox.actions.scan(MP["appid"], "o-scanner", scene="c=abc", wait=True)

    assert (first.outcome, second.outcome) == ("accepted", "accepted")
    subscribe, scan = receiver.message(0), receiver.message(1)
    assert (subscribe["Event"], subscribe["EventKey"]) == ("subscribe", "qrscene_c=abc")
    assert (scan["Event"], scan["EventKey"]) == ("SCAN", "c=abc")
    assert subscribe["Ticket"] == scan["Ticket"] == qr["ticket"]
    assert subscribe["FromUserName"] == receiver.received[0][0]["openid"] == "o-scanner"
    assert subscribe["ToUserName"] == state.app(MP["appid"]).original_id
    info = mp_client.user.get("o-scanner")
    assert (info["subscribe_scene"], info["qr_scene_str"]) == ("ADD_SCENE_QR_CODE", "c=abc")


# Far beyond SHORT_PUSH_TIMEOUT and the bound below: a push that waited for the answer shows.
SILENT_FOR = 5.0


@pytest.mark.parametrize("misbehaviour", [{"delay": SILENT_FOR}, {"status": 500}, {"reply": "ok"}])
def test_an_unanswered_push_is_sent_three_times_alike(misbehaviour, state, fresh_sandbox, callback):
    receiver = callback(MP)
    for name, value in misbehaviour.items():
        setattr(receiver, name, value)
    if "delay" in misbehaviour:
        state.configure(push_timeout=SHORT_PUSH_TIMEOUT)
    record = fresh_sandbox.actions.subscribe(MP["appid"], "o-follower", wait=True)

    assert record.outcome == "failed"
    assert [attempt.number for attempt in record.attempts] == [1, 2, 3]
    # A timed-out attempt can end before the receiver's thread has stored its request.
    assert eventually(lambda: len(receiver.received) >= 3)
    assert len(receiver.received) == 3
    assert receiver.received[0] == receiver.received[1] == receiver.received[2]
    if "delay" in misbehaviour:
        # Each attempt gives up at the timeout; the bound leaves room for a stalled process.
        assert all(attempt.status is None for attempt in record.attempts)
        assert all(SHORT_PUSH_TIMEOUT <= attempt.elapsed < 2.5 for attempt in record.attempts)


def test_success_and_empty_replies_are_delivered_once(fresh_sandbox, callback):
    receiver = callback(MP)
    assert fresh_sandbox.actions.text(MP["appid"], "o-a", "报名", wait=True).outcome == "accepted"
    receiver.reply = ""
    assert fresh_sandbox.actions.text(MP["appid"], "o-a", "进度", wait=True).outcome == "accepted"
    assert len(receiver.received) == 2
    first, second = receiver.message(0), receiver.message(1)
    assert (first["MsgType"], first["Content"]) == ("text", "报名")
    assert int(second["MsgId"]) == int(first["MsgId"]) + 1


def test_encrypted_passive_replies_are_verified_and_decrypted(fresh_sandbox, callback):
    receiver = callback(MP)
    answer = (
        "<xml><ToUserName><![CDATA[o-a]]></ToUserName><FromUserName><![CDATA[gh]]></FromUserName>"
        "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        "<Content><![CDATA[欢迎]]></Content></xml>"
    )
    receiver.reply = receiver.crypto.encrypt_message(answer, "77", "1700000000")
    record = fresh_sandbox.actions.text(MP["appid"], "o-a", "帮助", wait=True)
    assert record.outcome == "accepted" and record.attempts[0].reply == answer

    receiver.reply = receiver.reply.replace("<MsgSignature><![CDATA[", "<MsgSignature><![CDATA[0")
    record = fresh_sandbox.actions.text(MP["appid"], "o-a", "帮助", wait=True)
    assert record.outcome == "failed" and "MsgSignature" in record.attempts[0].error

    receiver.reply = answer
    assert fresh_sandbox.actions.text(MP["appid"], "o-a", "帮助", wait=True).outcome == "failed"


def test_plain_mode_pushes_wechats_xml_verbatim(state, fresh_sandbox, callback):
    receiver = callback(MP, mode="plain")
    record = fresh_sandbox.actions.subscribe(MP["appid"], "o-plain", wait=True)
    query, body = receiver.received[0]

    assert "encrypt_type" not in query and "msg_signature" not in query
    assert body == (
        f"<xml><ToUserName><![CDATA[{state.app(MP['appid']).original_id}]]></ToUserName>"
        "<FromUserName><![CDATA[o-plain]]></FromUserName>"
        f"<CreateTime>{record.event['CreateTime']}</CreateTime>"
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>"
        "<EventKey><![CDATA[]]></EventKey></xml>"
    )


def test_json_pushes_for_a_mini_program(state, fresh_sandbox, callback):
    receiver = callback(WXA, push_format="json")
    state.add_template(WXA["appid"], ONE_TIME, THING_TIME)
    state.add_template(WXA["appid"], "tmpl-other", THING_TIME)
    results = {ONE_TIME: "accept", "tmpl-other": "reject"}

    fresh_sandbox.actions.subscribe_popup(WXA["appid"], "o-json", results, wait=True)
    envelope = json.loads(receiver.received[0][1])
    assert set(envelope) == {"ToUserName", "Encrypt"}
    event = receiver.message()
    assert event["Event"] == "subscribe_msg_popup_event"
    assert event["List"] == [
        {"TemplateId": ONE_TIME, "SubscribeStatusString": "accept", "PopupScene": 0},
        {"TemplateId": "tmpl-other", "SubscribeStatusString": "reject", "PopupScene": 0},
    ]
    assert state.credits(WXA["appid"], "o-json", ONE_TIME) == 1
    assert state.credits(WXA["appid"], "o-json", "tmpl-other") == 0

    fresh_sandbox.actions.subscribe_change(WXA["appid"], "o-json", ONE_TIME, wait=True)
    assert receiver.message()["List"] == [
        {"TemplateId": ONE_TIME, "SubscribeStatusString": "reject"}
    ]
    assert state.credits(WXA["appid"], "o-json", ONE_TIME) == 0


def test_url_verification_expects_echostr_verbatim(fresh_sandbox, callback):
    callback(MP)
    result = fresh_sandbox.actions.verify(MP["appid"])
    assert result["ok"] and result["reply"] == result["echostr"]


# -- faults -----------------------------------------------------------------------------


def test_drop_after_processes_the_send_but_never_answers(state, clients, fresh_sandbox):
    # Generous, so only a dropped connection (not a stalled process) ends the first send.
    wxa_client = clients(WXA, timeout=10)
    state.add_template(WXA["appid"], ONE_TIME, THING_TIME)
    openid = state.add_user(WXA["appid"]).openid
    fresh_sandbox.actions.subscribe_popup(WXA["appid"], openid, {ONE_TIME: "accept"})
    state.add_fault("/cgi-bin/message/subscribe/send", mode="drop_after")

    with pytest.raises(requests.ConnectionError):
        wxa_client.wxa.send_subscribe_message(openid, ONE_TIME, NOTICE)
    assert len(state.sends()) == 1
    assert state.credits(WXA["appid"], openid, ONE_TIME) == 0

    # The token is cached now, so the short timeout covers the late-answered send alone.
    fresh_sandbox.actions.subscribe_popup(WXA["appid"], openid, {ONE_TIME: "accept"})
    state.add_fault("/cgi-bin/message/subscribe/send", mode="drop_after", delay=3)
    wxa_client.timeout = 0.2
    with pytest.raises(requests.Timeout):
        wxa_client.wxa.send_subscribe_message(openid, ONE_TIME, NOTICE)
    # Under load the client's 0.2 s can run out before the server thread records the send.
    assert state.wait_until(lambda: len(state.sends()) == 2)


def test_error_and_delay_faults(state, wxa_client):
    user = state.add_user(WXA["appid"])
    state.add_fault("/sns/jscode2session", errcode=-1, times=2)
    state.add_fault("/sns/jscode2session", mode="delay", delay=0.2)
    code = state.login_code(WXA["appid"], user.openid)

    for _ in range(2):
        with pytest.raises(WeChatClientException) as excinfo:
            wxa_client.wxa.code_to_session(code)
        assert errcode_of(excinfo) == -1
    started = time.monotonic()
    assert wxa_client.wxa.code_to_session(code)["openid"] == user.openid
    assert time.monotonic() - started >= 0.2
    assert state.summary()["faults"] == []


# -- the control API and the command line -----------------------------------------------


def test_control_api_over_http(http, fresh_sandbox, callback):
    receiver = callback(WXA)
    admin = fresh_sandbox.url + "/__admin"
    assert http.post(admin + "/users", json={"appid": WXA["appid"], "openid": "o-h"}).ok
    code = http.post(admin + "/login-code", json={"appid": WXA["appid"], "openid": "o-h"})
    template = {"appid": WXA["appid"], "template_id": ONE_TIME, "keys": THING_TIME}
    assert http.post(admin + "/templates", json=template).json()["keys"] == THING_TIME
    popup = {"appid": WXA["appid"], "openid": "o-h", "results": {ONE_TIME: "accept"}, "wait": True}
    pushed = http.post(admin + "/subscribe-popup", json=popup).json()
    assert pushed["outcome"] == "accepted" and len(pushed["attempts"]) == 1
    assert receiver.message()["Event"] == "subscribe_msg_popup_event"

    params = {"grant_type": "authorization_code", "appid": WXA["appid"], "secret": WXA["secret"]}
    params["js_code"] = code.json()["code"]
    assert (
        http.get(fresh_sandbox.url + "/sns/jscode2session", params=params).json()["openid"] == "o-h"
    )
    assert http.get(admin + "/requests").json()["requests"][-1]["path"] == "/sns/jscode2session"
    assert http.get(admin + "/pushes").json()["pushes"][0]["event"]["FromUserName"] == "o-h"
    assert http.get(admin + "/state").json()["templates"] == 1

    fault = {"path": "/cgi-bin/token", "errcode": 45009}
    assert http.post(admin + "/faults", json=fault).json()["times"] == 1
    assert http.get(fresh_sandbox.url + "/cgi-bin/token").json()["errcode"] == 45009
    assert http.post(admin + "/config", json={"push_timeout": 1}).json()["push_timeout"] == 1.0

    assert http.post(admin + "/users", json={"openid": "o-x"}).status_code == 400
    assert http.post(admin + "/faults", json={"path": "/x", "times": "2"}).status_code == 400
    assert http.post(admin + "/config", json={"push_timeout": None}).status_code == 400
    assert http.post(admin + "/pages", json={"appid": WXA["appid"], "pages": 5}).status_code == 400
    assert http.post(admin + "/users", json={"appid": "wx-nope"}).json()["errcode"] == 40013
    scan = {"appid": MP["appid"], "openid": "o-x", "ticket": "gQ-unknown"}
    assert http.post(admin + "/scan", json=scan).status_code == 404
    assert http.get(fresh_sandbox.url + "/cgi-bin/no-such-api").json()["errcode"] == 40066
    assert http.post(admin + "/reset").ok
    assert http.get(admin + "/state").json()["users"] == 0


def test_command_line_serves_until_sigterm():
    command = [sys.executable, "-m", "wechat.sandbox", "--port", "0", "--app", json.dumps(MP)]
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True) as process:
        url = process.stdout.readline().strip()
        assert requests.get(url + "/cgi-bin/token", params=TOKEN_QUERY).json()["expires_in"] == 7200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
