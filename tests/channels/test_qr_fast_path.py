"""`FastScans`: a live code's scan answered before Flask routes it; the rest by Flask."""

import json

import pytest
from flask import request_started

import pages.qr
from models import Channel
from pages.scan_buffer import flush_scans
from tasks.queue import redis_connection
from tasks.touches import BUFFER
from tests.channel_fixtures import WECHAT_UA
from tests.factories import Organizer


@pytest.fixture
def channel(client, campaign):
    detail = Organizer(client, campaign).department("中共南平市委组织部", region="南平市")
    return Channel.get_by_id(detail["channels"][0]["id"])


@pytest.fixture
def flask_requests(app):
    seen = []

    def record(sender, **extra):
        seen.append(extra)

    request_started.connect(record, app)
    yield seen
    request_started.disconnect(record, app)


def test_a_live_code_is_answered_without_flask(app, client, channel, flask_requests):
    client.get(f"/q/{channel.code}", headers={"User-Agent": WECHAT_UA})  # the process learns it
    flask_requests.clear()
    response = app.test_client().get(  # a new browser, without the visitor cookie
        f"/q/{channel.code}", headers={"User-Agent": WECHAT_UA, "X-Request-Id": "ngx-7"}
    )
    assert response.status_code == 302 and flask_requests == []
    assert response.headers["Location"] == f"/wechat/oauth/start?c={channel.code}"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Request-Id"] == "ngx-7"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("cv=") and "HttpOnly" in cookie and "Max-Age=" in cookie
    flush_scans()
    touches = [json.loads(t) for t in redis_connection().lrange(BUFFER, 0, -1)]
    assert [(t["kind"], t["code"], t["client"]) for t in touches] == [
        ("link_scan", channel.code, "wechat")
    ] * 2
    assert touches[1]["visitor"] == cookie.split(";")[0][3:]
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'http_requests_total{endpoint="qr_landing.scan",method="GET",status="302"}' in metrics


def test_a_returning_visitor_keeps_the_id_in_its_cookie(client, channel):
    client.set_cookie("cv", "abcdefghijklmnop")
    response = client.get(f"/q/{channel.code}", headers={"User-Agent": "Mozilla/5.0"})
    assert response.headers["Location"] == f"/h5/?c={channel.code}"
    assert "Set-Cookie" not in response.headers
    flush_scans()
    assert json.loads(redis_connection().lindex(BUFFER, -1))["visitor"] == "abcdefghijklmnop"


def test_an_unknown_code_is_looked_up_once_and_gets_flasks_page(client, campaign, monkeypatch):
    asked = []
    original = pages.qr.is_live

    def counting(code):
        asked.append(code)
        return original(code)

    monkeypatch.setattr("pages.scan_buffer.is_live", counting)
    response = client.get("/q/zzzz9999", headers={"User-Agent": WECHAT_UA})
    assert response.status_code == 404
    assert "no-store" in response.headers["Cache-Control"]
    assert asked == ["zzzz9999"]
