"""Rate limits (issue 11, item 5): 429 with Retry-After past each limit, an atomic lockout
that parallel guesses cannot outrun, and no difference between known and unknown names.

The limits are the settings' defaults (docs/configuration.md); every test uses its own
client address (`X-Real-IP`, honoured because the test client is a loopback peer).
"""

import datetime
import hashlib
import threading

import pytest
from flask import Blueprint, Flask

from api.errors import bp as errors_bp
from api.ratelimits import rate_limited
from campaign.accounts import MAX_FAILURES, create_account
from models import Account, AuditLog, Channel, Touch, utcnow
from tests.channel_fixtures import persist_scans
from tests.factories import UNIT, Organizer
from tests.factories import WechatCaller as Caller


def from_ip(ip: str) -> dict:
    return {"X-Real-IP": ip}


def assert_too_many(response) -> None:
    assert response.status_code == 429, response.get_json()
    assert response.get_json()["error"]["code"] == "too_many_requests"
    assert int(response.headers["Retry-After"]) >= 1


@pytest.fixture
def organizer(campaign):
    return create_account("org-limits", "right-password-1", "organizer", "组织者", campaign)


def login(client, username: str, password: str, ip: str = "203.0.113.10"):
    return client.post(
        "/api/v1/console/login",
        json={"username": username, "password": password},
        headers=from_ip(ip),
    )


def test_console_login_is_limited_per_ip(client, settings, campaign):
    limit = settings.rate_login_per_ip
    for i in range(limit):
        assert login(client, f"nobody-{i}", "wrong-password", "203.0.113.20").status_code == 401
    assert_too_many(login(client, "nobody-x", "wrong-password", "203.0.113.20"))
    assert login(client, "nobody-y", "wrong-password", "203.0.113.21").status_code == 401


def test_wxa_login_is_limited_per_ip(client, settings, wechat):
    for _ in range(settings.rate_login_per_ip):
        response = client.post(
            "/api/v1/auth/wxa-login", json={"code": "bad-code"}, headers=from_ip("203.0.113.30")
        )
        assert response.status_code != 429
    assert_too_many(
        client.post(
            "/api/v1/auth/wxa-login", json={"code": "bad-code"}, headers=from_ip("203.0.113.30")
        )
    )


def test_text_count_is_limited_per_ip(client, settings):
    for _ in range(settings.rate_text_count_per_ip):
        ok = client.post(
            "/api/v1/text/count", json={"text": "党建"}, headers=from_ip("198.51.100.7")
        )
        assert ok.status_code == 200
    assert_too_many(
        client.post("/api/v1/text/count", json={"text": "党建"}, headers=from_ip("198.51.100.7"))
    )


def test_uploads_are_limited_per_user(client, open_window, settings):
    unit = Caller(client, "o-uploader")
    unit.put("/api/v1/me/unit", json=UNIT)
    entry = unit.post("/api/v1/entries", json={}).get_json()
    path = f"/api/v1/entries/{entry['id']}/attachments"
    for _ in range(settings.rate_upload_per_user):
        assert unit.post(path, json={"kind": "nonsense"}).status_code == 422
    assert_too_many(unit.post(path, json={"kind": "nonsense"}))


def test_a_public_form_decorator(app, settings):
    """Any public form (objections come later) gets the same per-IP limit by one line."""
    form = Flask("form-test")
    form.register_blueprint(errors_bp)
    blueprint = Blueprint("form", __name__)

    @blueprint.post("/form")
    @rate_limited("form")
    def submit_form():
        return {"ok": True}

    form.register_blueprint(blueprint)
    client = form.test_client()
    for _ in range(settings.rate_form_per_ip):
        assert client.post("/form", headers=from_ip("192.0.2.9")).status_code == 200
    assert_too_many(client.post("/form", headers=from_ip("192.0.2.9")))


# --- the console lockout ------------------------------------------------------------------


def test_known_and_unknown_names_lock_alike(client, organizer):
    answers = {}
    for name in ("org-limits", "no-such-organizer"):
        for attempt in range(MAX_FAILURES):
            wrong = login(client, name, f"wrong-{attempt}", "203.0.113.40")
            assert wrong.status_code == 401
        locked = login(client, name, "right-password-1", "203.0.113.41")
        answers[name] = (locked.status_code, locked.get_json())
    assert answers["org-limits"] == answers["no-such-organizer"]
    assert answers["org-limits"][0] == 423
    account = Account.get_by_id(organizer.id)
    assert account.failed_logins == MAX_FAILURES and account.locked_until > utcnow()
    assert AuditLog.select().where(AuditLog.action == "account.locked").count() == 1


def test_parallel_guesses_cannot_outrun_the_lock(app, organizer):
    """12 guesses at once: only MAX_FAILURES passwords are ever checked."""
    barrier = threading.Barrier(12)
    statuses = []

    def guess(index: int):
        client = app.test_client()
        barrier.wait()
        response = login(client, "org-limits", f"guess-{index}", f"203.0.113.{100 + index}")
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [401] * MAX_FAILURES + [423] * (12 - MAX_FAILURES)


def test_a_success_clears_the_count(client, organizer):
    for attempt in range(MAX_FAILURES - 1):
        login(client, "org-limits", f"wrong-{attempt}")
    assert login(client, "org-limits", "right-password-1").status_code == 200
    for attempt in range(MAX_FAILURES - 1):
        assert login(client, "org-limits", f"wrong-again-{attempt}").status_code == 401


def test_known_and_unknown_names_cost_the_same_scrypt(client, organizer, monkeypatch):
    """Equal timing, counted rather than timed: each refusal runs exactly one scrypt."""
    real_scrypt = hashlib.scrypt
    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return real_scrypt(*args, **kwargs)

    login(client, "warm-up-name", "wrong-password")  # the dummy hash is made once per process
    monkeypatch.setattr(hashlib, "scrypt", counting)
    costs = {}
    for name in ("org-limits", "unknown-name"):
        calls.clear()
        assert login(client, name, "wrong-password").status_code == 401
        costs[name] = len(calls)
    assert costs == {"org-limits": 1, "unknown-name": 1}


# --- /q/ repeat scans ---------------------------------------------------------------------


@pytest.fixture
def channel(client, campaign):
    detail = Organizer(client, campaign, "organizer-scans").department("中共莆田市委组织部")
    return Channel.get_by_id(detail["channels"][0]["id"])


def scan(client, code: str, cookie: str):
    from pages.scan_buffer import flush_scans

    client.set_cookie("cv", cookie)
    response = client.get(f"/q/{code}")
    flush_scans()
    return response


def test_repeat_scans_by_one_visitor_count_once(client, channel, settings):
    for _ in range(10):
        assert scan(client, channel.code, "visitor-aaaaaaaa").status_code == 302
    scan(client, channel.code, "visitor-bbbbbbbb")
    persist_scans()
    for _ in range(5):
        scan(client, channel.code, "visitor-aaaaaaaa")
    persist_scans()
    visitors = [t.visitor for t in Touch.select().where(Touch.kind == "link_scan")]
    assert sorted(visitors) == ["visitor-aaaaaaaa", "visitor-bbbbbbbb"]

    window = datetime.timedelta(minutes=settings.scan_repeat_minutes)
    for touch in Touch.select():  # the window has passed
        Touch.update(at=touch.at - window).where(Touch.id == touch.id).execute()
    scan(client, channel.code, "visitor-aaaaaaaa")
    persist_scans()
    assert Touch.select().where(Touch.visitor == "visitor-aaaaaaaa").count() == 2


def test_wxa_login_is_limited_per_identity_across_addresses(client, settings, wechat):
    wechat.state.add_user(settings.wxa.appid, "o-many-logins")

    def log_in(ip: str):
        code = wechat.state.login_code(settings.wxa.appid, "o-many-logins")
        return client.post("/api/v1/auth/wxa-login", json={"code": code}, headers=from_ip(ip))

    for i in range(settings.rate_login_per_ip):
        assert log_in(f"198.18.0.{i + 1}").status_code == 200
    assert_too_many(log_in("198.18.1.1"))
