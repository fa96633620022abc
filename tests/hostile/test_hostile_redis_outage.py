"""Redis down: clear 503s, never 500s, and no submit that vanishes (issue 11, item 1–2).

Each test runs against a redis-server of its own that it kills with SIGKILL and restarts
(empty, as a Redis without AOF comes back), on SQLite or PostgreSQL alike.
"""

import datetime

import pytest

from campaign.entries import operations as rules
from models import Channel, Department, Entry, utcnow
from tasks.reconcile import enqueue_submit_checks, requeue_lost_checks
from tests.factories import COMPLETE, UNIT, add_evidence, new_entry
from tests.factories import WechatCaller as Caller

pytest_plugins = ("tests.hostile.redis_outage",)  # own_redis


@pytest.fixture
def flow(client, open_window, wechat, settings, own_redis):
    """A unit that came through a department's code, with a complete draft, and the
    department's officer, bound."""
    department = Department.create(
        campaign=open_window, name="福州市委组织部", route="org_dept", invite_code="FZ-INVITE"
    )
    Channel.create(campaign=open_window, department=department, route="org_dept", code="fz2345abcd")
    unit = Caller(client, "o-outage-unit")
    wechat.state.add_user(settings.wxa.appid, "o-outage-unit")
    unit.post("/api/v1/touches", json={"scene": "c%3Dfz2345abcd"})
    assert unit.put("/api/v1/me/unit", json=UNIT).status_code == 201
    entry = new_entry(unit, **COMPLETE)
    add_evidence(entry["id"])
    officer = Caller(client, "o-outage-officer")
    assert officer.post("/api/v1/dept/bind", json={"invite_code": "FZ-INVITE"}).status_code == 200
    return unit, entry, officer


def department_sees(officer) -> list[int]:
    return [e["id"] for e in officer.get("/api/v1/dept/entries").get_json()["items"]]


def age(entry_id: int, minutes: int = 5) -> None:
    """Let the sweeper's grace period pass."""
    past = utcnow() - datetime.timedelta(minutes=minutes)
    Entry.update(updated_at=past, submitted_at=past).where(Entry.id == entry_id).execute()


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["error"]["code"] == "service_unavailable"
    assert response.get_json()["error"]["message"] == "服务暂时繁忙，请稍后再试"
    assert int(response.headers["Retry-After"]) > 0


def test_submit_with_redis_down_is_refused_before_anything_is_saved(flow, own_redis, run_jobs):
    unit, entry, officer = flow
    own_redis.kill()
    refused = unit.post(f"/api/v1/entries/{entry['id']}/submit")
    assert_unavailable(refused)
    assert Entry.get_by_id(entry["id"]).status == "draft"

    own_redis.start()
    accepted = unit.post(f"/api/v1/entries/{entry['id']}/submit")
    assert accepted.status_code == 200, accepted.get_json()
    run_jobs()
    assert department_sees(officer) == [entry["id"]]


def test_redis_killed_between_the_write_and_the_enqueue_the_entry_still_arrives(
    flow, own_redis, run_jobs
):
    unit, entry, officer = flow
    saved = rules.submit(Entry.get_by_id(entry["id"]), f"user:{unit.user.id}", None)  # the write
    own_redis.kill()
    assert enqueue_submit_checks(saved.id) is False  # the enqueue: lost, but no exception
    own_redis.start()  # back, empty

    assert requeue_lost_checks() == {"text": 0, "media": 0, "duplicates": 0}  # within grace
    age(saved.id)
    assert run_jobs() == 0
    assert requeue_lost_checks() == {"text": 1, "media": 1, "duplicates": 1}
    assert requeue_lost_checks() == {"text": 0, "media": 0, "duplicates": 0}  # idempotent
    run_jobs()
    assert Entry.get_by_id(saved.id).content_check == "pass"
    assert department_sees(officer) == [saved.id]


def test_jobs_lost_from_a_restarted_redis_are_enqueued_again(flow, own_redis, run_jobs):
    unit, entry, officer = flow
    assert unit.post(f"/api/v1/entries/{entry['id']}/submit").status_code == 200
    own_redis.kill()  # the queued checks die with it (no AOF)
    own_redis.start()
    age(entry["id"])
    assert run_jobs() == 0
    assert department_sees(officer) == []
    requeue_lost_checks()
    run_jobs()
    assert department_sees(officer) == [entry["id"]]


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("post", "/api/v1/touches", {"scene": "c%3Dfz2345abcd"}),
        ("post", "/api/v1/entries/{entry}/submit", {}),
    ],
)
def test_redis_down_answers_503_not_500(flow, own_redis, method, path, body):
    unit, entry, _ = flow
    own_redis.kill()
    response = getattr(unit, method)(path.format(entry=entry["id"]), json=body)
    assert_unavailable(response)


def test_every_enqueue_has_bounded_ttls(flow, own_redis):
    from rq.job import Job

    from tasks.queue import FAILURE_TTL, RESULT_TTL, redis_connection

    unit, entry, _ = flow
    unit.post(f"/api/v1/entries/{entry['id']}/submit")
    version = Entry.get_by_id(entry["id"]).version
    job = Job.fetch(f"check-text-{entry['id']}-v{version}", connection=redis_connection())
    assert (job.result_ttl, job.failure_ttl) == (RESULT_TTL, FAILURE_TTL)


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/v1/auth/wxa-login", {"code": "any-code"}),
        ("/api/v1/console/login", {"username": "someone", "password": "something-long"}),
        ("/api/v1/text/count", {"text": "党建"}),
    ],
)
def test_anonymous_endpoints_with_redis_down_answer_503(client, campaign, own_redis, path, body):
    own_redis.kill()
    assert_unavailable(client.post(path, json=body))
