"""`WeChatSession`'s short path: what leaves it is what requests' full path sends, and what
goes wrong on the wire raises the exceptions the outbox reads to tell "never sent" from
"maybe sent"."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tasks import notice_sending
from tests.conftest import free_port
from wechat import calls
from wechat.client import CampaignClient, WeChatSession, mount_transport


class _Recorder(BaseHTTPRequestHandler):
    """Answers `{"errcode": 0}` and records each request as it arrived."""

    protocol_version = "HTTP/1.1"

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = sorted((k.lower(), v) for k, v in self.headers.items())
        self.server.seen.append((self.command, self.path, headers, body))
        if self.path.startswith("/moved"):
            self.send_response(302)
            self.send_header("Location", "/cgi-bin/landed?from=moved")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        reply = b'{"errcode": 0, "errmsg": "ok", "msgid": 7}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _sessions(base: str):
    short = WeChatSession()
    mount_transport(short, base)
    full = requests.Session()
    mount_transport(full, base)
    return short, full


CALLS = [
    ("post", "https://api.weixin.qq.com/cgi-bin/message/subscribe/send",
     {"params": {"access_token": "T-1"}, "data": '{"touser": "o-1", "v": "压测"}'.encode()}),
    ("post", "https://api.weixin.qq.com/cgi-bin/stable_token",
     {"json": {"grant_type": "client_credential", "appid": "wx1", "force_refresh": False}}),
    ("get", "https://api.weixin.qq.com/sns/jscode2session",
     {"params": {"appid": "wx1", "js_code": "a b/c+d", "grant_type": "authorization_code",
                 "skip": None}}),
    ("get", "https://api.weixin.qq.com/cgi-bin/user/info?lang=zh_CN",
     {"params": {"openid": "o-中文"}}),
    ("post", "https://api.weixin.qq.com/cgi-bin/menu/create",
     {"params": {"access_token": "T-1"}, "data": b"", "headers": {"X-Trace": "t-1"}}),
    ("get", "https://api.weixin.qq.com/cgi-bin/getcallbackip", {}),
]  # fmt: skip


@pytest.fixture
def full_path_calls(monkeypatch):
    """The sessions that went through requests' full path (`Session.send`), in order."""
    seen = []
    send = requests.Session.send

    def spy(session, request, **kwargs):
        seen.append(session)
        return send(session, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", spy)
    return seen


@pytest.mark.parametrize("method, url, options", CALLS)
def test_a_plain_call_leaves_byte_for_byte_as_requests_sends_it(
    recorder, full_path_calls, method, url, options
):
    short, full = _sessions(f"http://127.0.0.1:{recorder.server_port}")
    with short, full:
        fast = getattr(short, method)(url, timeout=5, **options)
        slow = getattr(full, method)(url, timeout=5, **options)
    assert full_path_calls == [full]  # the short session took its own path
    assert (fast.status_code, fast.json(), fast.url) == (slow.status_code, slow.json(), slow.url)
    sent_short, sent_full = recorder.seen
    assert sent_short == sent_full
    assert sent_short[1].startswith(url.removeprefix("https://api.weixin.qq.com"))


def test_a_get_answered_with_a_redirect_is_followed_as_requests_would(recorder):
    short, _ = _sessions(f"http://127.0.0.1:{recorder.server_port}")
    with short:
        answer = short.get("https://api.weixin.qq.com/moved", timeout=5)
        unfollowed = short.get("https://api.weixin.qq.com/moved", allow_redirects=False, timeout=5)
    assert unfollowed.status_code == 302
    assert answer.status_code == 200
    assert answer.url.endswith("/cgi-bin/landed?from=moved")
    paths = [path for _, path, _, _ in recorder.seen]
    assert paths == ["/moved", "/moved", "/cgi-bin/landed?from=moved", "/moved"]


def test_calls_the_short_path_does_not_take_still_work(recorder):
    short, _ = _sessions(f"http://127.0.0.1:{recorder.server_port}")
    with short:
        streamed = short.get("https://api.weixin.qq.com/cgi-bin/x", stream=True, timeout=5)
        uploaded = short.post(
            "https://api.weixin.qq.com/cgi-bin/media/upload",
            files={"media": ("a.jpg", b"\xff\xd8jpeg")},
            timeout=5,
        )
    assert streamed.json()["errcode"] == 0 and uploaded.json()["errcode"] == 0
    assert b"jpeg" in recorder.seen[-1][3]


def test_a_hosts_pool_is_looked_up_once_and_again_once_closed(recorder, monkeypatch):
    from requests.adapters import HTTPAdapter

    lookups = []
    lookup = HTTPAdapter.get_connection_with_tls_context

    def counted(adapter, request, *args, **kwargs):
        if adapter is transport:  # no other requests traffic of the process
            lookups.append(request.url.split("/")[2])
        return lookup(adapter, request, *args, **kwargs)

    monkeypatch.setattr(HTTPAdapter, "get_connection_with_tls_context", counted)
    port = recorder.server_port
    short, _ = _sessions(f"http://127.0.0.1:{port}")
    transport = short.get_adapter("https://api.weixin.qq.com/")
    short.mount(f"http://localhost:{port}/", transport)  # a second host on the same transport
    with short:
        for n in range(3):
            short.post("https://api.weixin.qq.com/cgi-bin/a", data=str(n), timeout=5)
        short.get(f"http://localhost:{port}/cgi-bin/b", timeout=5)
        short.get(f"http://localhost:{port}/cgi-bin/c", timeout=5)
        transport.close()  # requests lets its pools go: the next call looks one up again
        answer = short.post("https://api.weixin.qq.com/cgi-bin/d", data="4", timeout=5)
    assert answer.json()["errcode"] == 0
    assert [path for _, path, _, _ in recorder.seen] == [
        "/cgi-bin/a", "/cgi-bin/a", "/cgi-bin/a", "/cgi-bin/b", "/cgi-bin/c", "/cgi-bin/d"
    ]  # fmt: skip
    assert lookups == [f"127.0.0.1:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]


# --- what the outbox reads when the wire fails ------------------------------------------


class _Listener:
    """A socket that accepts and then either says nothing or hangs up after the request."""

    def __init__(self, behaviour: str):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.behaviour = behaviour
        self.held = []
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self):
        try:
            connection, _ = self.sock.accept()
        except OSError:
            return
        connection.recv(65536)  # the whole request has arrived
        if self.behaviour == "hang_up":
            connection.close()
        else:
            self.held.append(connection)

    def close(self):
        for connection in self.held:
            connection.close()
        self.sock.close()


def _send_through(settings, base: str, monkeypatch) -> notice_sending.Outcome:
    from tasks.queue import redis_connection
    from wechat import client as wechat_client

    monkeypatch.setattr(wechat_client, "TIMEOUT", (1.0, 0.5))
    client = CampaignClient(settings.wxa, redis_connection(), base)
    monkeypatch.setattr(client.tokens, "get", lambda: "T-cached")
    with client._http:
        return notice_sending._outcome(
            lambda: calls.send_subscribe(client, "o-1", "tpl-1", {"thing1": "提醒"})
        )


def test_a_refused_connection_is_never_sent_and_retried(settings, monkeypatch):
    outcome = _send_through(settings, f"http://127.0.0.1:{free_port()}", monkeypatch)
    assert (outcome.kind, outcome.reason) == (notice_sending.RETRY, "connect_failed")


@pytest.mark.parametrize(
    "behaviour, reason", [("silent", "response_timeout"), ("hang_up", "connection_lost")]
)
def test_a_request_that_left_without_an_answer_is_unknown(settings, monkeypatch, behaviour, reason):
    listener = _Listener(behaviour)
    try:
        outcome = _send_through(settings, listener.base, monkeypatch)
    finally:
        listener.close()
    assert (outcome.kind, outcome.reason) == (notice_sending.UNKNOWN, reason)
