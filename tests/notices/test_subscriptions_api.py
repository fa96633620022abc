"""`POST /api/v1/subscriptions` and the popup event: one accept is one grant, however many
ways it is reported."""

import pytest

from campaign.sessions import issue_token
from models import SubscriptionGrant, WechatUser
from tasks.queue import redis_connection


class Caller:
    def __init__(self, client, openid: str):
        self.client = client
        self.user = WechatUser.create(app="wxa", openid=openid)
        self.headers = {"Authorization": f"Bearer {issue_token(self.user)[0]}"}

    def report(self, answers):
        return self.client.post("/api/v1/subscriptions", json=answers, headers=self.headers)

    def grants(self) -> dict:
        return self.client.get("/api/v1/subscriptions", headers=self.headers).get_json()["grants"]


@pytest.fixture
def caller(client, app):
    return Caller(client, "o-caller")


def popup(wechat, settings, openid: str, answers: dict, run_jobs) -> None:
    for template_id in answers:
        wechat.state.add_template(settings.wxa.appid, template_id, keys={"thing1": "thing"})
    record = wechat.actions.subscribe_popup(settings.wxa.appid, openid, answers, wait=True)
    assert record.outcome == "accepted"
    run_jobs()


def test_answers_become_grants(caller):
    response = caller.report({"tpl-a": "accept", "tpl-b": "reject"})
    assert response.status_code == 200
    assert response.get_json() == {"grants": {"tpl-a": 1, "tpl-b": 0}}
    assert caller.grants() == {
        "tpl-a": {"remaining": 1, "long_term": False},
        "tpl-b": {"remaining": 0, "long_term": False},
    }


def test_bad_reports_are_refused_with_every_problem(client, caller):
    response = caller.report({"tpl-a": "yes", "bad id": "accept", "tpl-c": "accept"})
    assert response.status_code == 422
    fields = {(f["field"], f["code"]) for f in response.get_json()["error"]["fields"]}
    assert fields == {("tpl-a", "invalid_choice"), ("bad id", "invalid_choice")}
    assert SubscriptionGrant.select().count() == 0
    too_many = caller.report({f"tpl-{n}": "accept" for n in range(11)})
    assert too_many.get_json()["error"]["fields"][0]["code"] == "too_many"
    assert caller.report({}).status_code == 422
    assert caller.report(["tpl-a"]).get_json()["error"]["code"] == "invalid_json"
    anonymous = client.post("/api/v1/subscriptions", json={"tpl-a": "accept"})
    assert anonymous.status_code == 401


def test_an_accept_reported_by_event_and_by_the_app_counts_once(caller, wechat, settings, run_jobs):
    popup(wechat, settings, caller.user.openid, {"tpl-a": "accept"}, run_jobs)
    assert caller.report({"tpl-a": "accept"}).get_json() == {"grants": {"tpl-a": 1}}
    # The other order: the app reports first, WeChat's push follows.
    assert caller.report({"tpl-b": "accept"}).get_json() == {"grants": {"tpl-b": 1}}
    popup(wechat, settings, caller.user.openid, {"tpl-b": "accept"}, run_jobs)
    assert caller.grants()["tpl-b"]["remaining"] == 1


def test_two_accepts_count_twice_even_when_each_is_reported_twice(
    caller, wechat, settings, run_jobs
):
    for _ in range(2):
        caller.report({"tpl-a": "accept"})
    for _ in range(2):
        popup(wechat, settings, caller.user.openid, {"tpl-a": "accept"}, run_jobs)
    assert caller.grants()["tpl-a"]["remaining"] == 2


def test_without_the_pairing_memory_an_answer_may_count_twice(caller, wechat, settings, run_jobs):
    """The documented limit: Redis forgetting its counters can only over-count an answer by
    one, which WeChat then refuses with 43101 (recorded, and the grant is zeroed)."""
    caller.report({"tpl-a": "accept"})
    redis_connection().flushdb()
    popup(wechat, settings, caller.user.openid, {"tpl-a": "accept"}, run_jobs)
    assert caller.grants()["tpl-a"]["remaining"] == 2
