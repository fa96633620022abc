"""`FastPushes`: genuine pushes answered before Flask routes them, everything else by Flask."""

import socket

import pytest
from flask import request_started
from redis import Redis

import tasks.queue
from tests import pushes


@pytest.fixture
def mp(settings):
    return settings.mp


def post(client, query, body, **headers):
    return client.post(
        "/wechat/mp", query_string=query, data=body, content_type="text/xml", headers=headers
    )


@pytest.fixture
def flask_requests(app):
    """Requests that reached Flask's request handling."""
    seen = []

    def record(sender, **extra):
        seen.append(extra)

    request_started.connect(record, app)
    yield seen
    request_started.disconnect(record, app)


def test_a_genuine_push_is_answered_without_flask(client, mp, flask_requests):
    xml = pushes.event_xml("o-fast", "SCAN", EventKey="c=abcd2345ef")
    response = post(client, *pushes.encrypted(mp, xml), **{"X-Request-Id": "nginx-42"})
    assert response.status_code == 200
    assert response.headers["X-Request-Id"] == "nginx-42"
    assert "欢迎参加" in pushes.open_reply(mp, response.data)["Content"]
    assert flask_requests == []
    metrics = client.get("/metrics").get_data(as_text=True)
    counted = 'http_requests_total{endpoint="wechat_callbacks.callback",method="POST",status="200"}'
    assert counted in metrics


def test_a_rejected_push_goes_on_to_flask_with_its_body(client, mp, flask_requests):
    query, body = pushes.encrypted(mp, pushes.event_xml("o-bad", "SCAN"))
    query["msg_signature"] = "0" * 40
    response = post(client, query, body)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "bad_msg_signature"
    assert len(flask_requests) == 1 and response.headers["X-Request-Id"]


def test_a_retry_answered_by_the_fast_path_gets_the_first_answer(client, mp):
    query, body = pushes.encrypted(mp, pushes.text_xml("o-retry", "报名", "1234567"))
    first, second = post(client, query, body), post(client, query, body)
    assert first.status_code == second.status_code == 200
    opened = [pushes.open_reply(mp, r.data)["Content"] for r in (first, second)]
    assert opened[0] == opened[1] and "报名入口" in opened[0]


def test_redis_down_is_a_503_not_a_500(client, mp, monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    down = Redis(port=closed, socket_connect_timeout=0.5)
    monkeypatch.setattr(tasks.queue, "_connection", down)
    response = post(client, *pushes.encrypted(mp, pushes.event_xml("o-down", "SCAN")))
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "service_unavailable"
    assert int(response.headers["Retry-After"]) > 0
