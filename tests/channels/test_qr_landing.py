"""`/q/<code>`: the scan is recorded (one Redis write, no database) and the visitor sent on."""

import pytest
from redis import RedisError

from models import Channel, Department, Touch, db
from pages.scan_buffer import LIVE_CODES, VERSION, flush_scans, refresh_live_codes
from tasks.queue import redis_connection
from tests.channel_fixtures import BROWSER_UA, WECHAT_UA, persist_scans
from tests.factories import Organizer


@pytest.fixture
def channel(client, campaign):
    detail = Organizer(client, campaign).department("中共莆田市委组织部", region="莆田市")
    return Channel.get_by_id(detail["channels"][0]["id"])


class QueryCounter:
    """Counts SQL statements the database runs (to prove the hot path runs none)."""

    def __init__(self, monkeypatch):
        self.count = 0
        cls = type(db.obj)
        original = cls.execute_sql

        def counting(database, sql, params=None, *args, **kwargs):
            self.count += 1
            return original(database, sql, params, *args, **kwargs)

        monkeypatch.setattr(cls, "execute_sql", counting)


def scan(client, code: str, user_agent: str = WECHAT_UA, cookie: str | None = None):
    """Scan as a phone would."""
    if cookie:
        client.set_cookie("cv", cookie)
    response = client.get(f"/q/{code}", headers={"User-Agent": user_agent})
    flush_scans()  # now, rather than in a few milliseconds, so no scan outlives its test
    return response


def test_inside_wechat_the_scan_goes_on_to_login(client, channel):
    response = scan(client, channel.code)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/wechat/oauth/start?c={channel.code}"
    assert response.headers["Cache-Control"] == "no-store"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("cv=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    persist_scans()
    touch = Touch.get()
    assert (touch.channel_id, touch.kind, touch.client) == (channel.id, "link_scan", "wechat")
    assert touch.user_id is None and touch.visitor == cookie.split(";")[0][3:]


def test_elsewhere_the_scan_goes_to_the_h5_page(client, channel):
    response = scan(client, channel.code, BROWSER_UA)
    assert response.headers["Location"] == f"/h5/?c={channel.code}"
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and "如何参加" in page.get_data(as_text=True)
    persist_scans()
    assert Touch.get().client == "other"


def test_a_returning_browser_keeps_its_visitor_id(client, channel):
    first = scan(client, channel.code, cookie="abcdefghijklmnop")
    again = scan(client, channel.code)
    assert "Set-Cookie" not in first.headers and "Set-Cookie" not in again.headers
    persist_scans()
    assert {t.visitor for t in Touch.select()} == {"abcdefghijklmnop"}
    forged = scan(client, channel.code, cookie="<script>")
    assert forged.headers["Set-Cookie"].startswith("cv=")  # a bad cookie gets a new id


def test_the_hot_path_never_touches_the_database(client, channel, monkeypatch):
    scan(client, channel.code)  # warm: the live-code set is built on the first scan
    counter = QueryCounter(monkeypatch)
    for _ in range(5):
        assert scan(client, channel.code).status_code == 302
    assert counter.count == 0
    Channel.select().count()  # the counter does see queries
    assert counter.count == 1


@pytest.mark.parametrize("code", ["zzzzzzzzzz", "NOT-A-CODE", "a", "x" * 40])
def test_unknown_codes_get_a_friendly_page(client, channel, code):
    response = scan(client, code)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "二维码无效或已停用" in response.get_data(as_text=True)
    persist_scans()
    assert Touch.select().count() == 0


def test_disabled_channels_and_departments_stop_at_once(client, campaign, channel):
    org = Organizer(client, campaign, "organizer-2")
    assert scan(client, channel.code).status_code == 302
    org.patch(f"/api/v1/org/channels/{channel.id}", json={"active": False})
    assert scan(client, channel.code).status_code == 404
    org.patch(f"/api/v1/org/channels/{channel.id}", json={"active": True})
    assert scan(client, channel.code).status_code == 302
    org.patch(f"/api/v1/org/departments/{channel.department_id}", json={"active": False})
    assert scan(client, channel.code).status_code == 404


def test_a_new_channel_works_even_before_the_cache_knows_it(client, campaign, channel):
    assert scan(client, channel.code).status_code == 302  # the set now exists
    fresh = Channel.create(
        campaign=campaign, department=channel.department_id, route="org_dept", code="newc2345ab"
    )  # made behind the API's back: the set was not told
    assert not redis_connection().sismember(LIVE_CODES, fresh.code)
    assert scan(client, fresh.code).status_code == 302
    assert redis_connection().sismember(LIVE_CODES, fresh.code)


def test_the_set_is_rebuilt_after_redis_lost_it(client, channel):
    redis_connection().delete(LIVE_CODES, VERSION)
    assert scan(client, channel.code).status_code == 302
    assert redis_connection().smembers(LIVE_CODES) == {channel.code.encode()}
    Department.update(active=False).execute()  # behind the API's back: only the rebuild knows
    assert refresh_live_codes() == 0
    assert scan(client, channel.code).status_code == 404


def test_without_redis_the_visitor_still_gets_through(client, channel, monkeypatch):
    from redis.exceptions import ConnectionError as RedisDown

    import pages.qr

    def down(*args, **kwargs):
        raise RedisDown("gone")

    monkeypatch.setattr(pages.qr, "record_scan", down)
    assert scan(client, channel.code).status_code == 302
    assert scan(client, "zzzzzzzzzz").status_code == 404


def test_an_invite_qr_scanned_outside_the_mini_program(client, channel):
    department = Department.get_by_id(channel.department_id)
    page = client.get(f"/q/i/{department.invite_code}")
    assert page.status_code == 200 and department.name in page.get_data(as_text=True)
    assert client.get("/q/i/nosuchinvite").status_code == 404


def test_scans_travel_in_batches_and_wait_out_a_redis_outage(client, channel, monkeypatch):
    import pages.scan_buffer
    from tasks.queue import get_queue
    from tasks.touches import BUFFER

    for _ in range(3):
        client.get(f"/q/{channel.code}", headers={"User-Agent": WECHAT_UA})
    assert flush_scans() == 3
    assert redis_connection().llen(BUFFER) == 3
    drains = [j for j in get_queue("default").jobs if j.func_name == "tasks.touches.flush_touches"]
    assert len(drains) == 1  # the empty buffer got its drain job, once
    dead = type(redis_connection()).from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    monkeypatch.setattr(pages.scan_buffer, "redis_connection", lambda: dead)
    client.get(f"/q/{channel.code}", headers={"User-Agent": WECHAT_UA})
    with pytest.raises(RedisError):
        flush_scans()  # kept, not dropped
    monkeypatch.undo()
    assert flush_scans() == 1
    assert redis_connection().llen(BUFFER) == 4
