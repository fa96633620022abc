"""The sandbox keeps connections open between calls, as WeChat's servers do, so the
clients' connection reuse is what the benchmarks and tests exercise."""

import http.client
import json

import pytest

from wechat.sandbox.server import Sandbox


@pytest.fixture
def connection():
    with Sandbox() as sandbox:
        host, port = sandbox.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        conn.connect()
        conn.auto_open = 0  # a closed connection raises instead of quietly reconnecting
        yield conn
        conn.close()


def _call(conn, method: str, path: str, body: bytes | None = None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    answer = conn.getresponse()
    return answer.status, answer.getheader("Connection"), answer.read()


def test_one_connection_carries_many_calls(connection):
    socket_before = connection.sock
    for _ in range(3):
        status, closing, body = _call(connection, "GET", "/cgi-bin/token?grant_type=x")
        assert status == 200 and closing is None
        assert "errcode" in json.loads(body)
    assert connection.sock is socket_before


def test_a_body_the_app_never_read_does_not_spill_into_the_next_call(connection):
    unread = json.dumps({"touser": "x" * 5000}).encode()
    _call(connection, "POST", "/no/such/path", unread)  # answered without reading the body
    status, _, body = _call(connection, "GET", "/cgi-bin/token?grant_type=x")
    assert status == 200 and "errcode" in json.loads(body)


def test_a_chunked_body_is_refused_and_the_connection_closed(connection):
    connection.putrequest("POST", "/cgi-bin/message/subscribe/send")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders(b"2\r\n{}\r\n0\r\n\r\n")
    answer = connection.getresponse()
    assert answer.status == 411
    answer.read()
    with pytest.raises((http.client.NotConnected, ConnectionError, http.client.HTTPException)):
        _call(connection, "GET", "/cgi-bin/token?grant_type=x")


def test_a_stopped_sandbox_answers_no_kept_alive_connection():
    sandbox = Sandbox().start()
    host, port = sandbox.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.connect()
    conn.auto_open = 0
    assert _call(conn, "GET", "/cgi-bin/token?grant_type=x")[0] == 200
    sandbox.stop()
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        _call(conn, "GET", "/cgi-bin/token?grant_type=x")
    conn.close()
