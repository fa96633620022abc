"""Returned entries say why, who and when; a unit that granted the status template gets one
subscribe message per verdict, through the notice outbox, and nobody else gets any."""

import pytest

from models import MessageTemplate, Notice, SubscriptionGrant
from tests.notice_helpers import sends_by_openid

pytest_plugins = ("tests.collection.fixtures", "tests.notice_fixtures")

STATUS_TEMPLATE = "tpl-status"


@pytest.fixture
def status_template(world, wechat, settings):
    keys = {"thing1": "thing", "phrase2": "phrase", "thing3": "thing", "time4": "time"}
    wechat.state.add_template(settings.wxa.appid, STATUS_TEMPLATE, keys=keys)
    wechat.state.add_user(settings.wxa.appid, "o-dept-unit")
    return MessageTemplate.create(
        campaign=world.campaign,
        purpose="status",
        channel="wxa_subscribe",
        template_id=STATUS_TEMPLATE,
        title="审核结果通知",
        fields={
            "thing1": {"label": "案例名称", "source": "entry_title"},
            "phrase2": {"label": "审核结果", "source": "entry_status"},
            "thing3": {"label": "说明", "source": "entry_note"},
            "time4": {"label": "时间", "source": "entry_time"},
        },
    )


def grant(world, wechat, settings, count: int = 1) -> None:
    for _ in range(count):
        wechat.state.answer_popup(settings.wxa.appid, "o-dept-unit", {STATUS_TEMPLATE: "accept"})
        world.unit.post("/api/v1/subscriptions", json={STATUS_TEMPLATE: "accept"})


def test_the_unit_sees_why_who_and_when(world):
    entry = world.submitted()
    world.officer.user.nickname = "李科长"
    world.officer.user.save()
    reason = "请补充成效数据，附上媒体报道"
    world.officer.post(f"/api/v1/dept/entries/{entry['id']}/return", json={"comment": reason})
    shown = world.unit.get(f"/api/v1/entries/{entry['id']}").get_json()
    assert shown["status"] == "returned"
    assert shown["returned"]["reason"] == reason
    assert shown["returned"]["by"] == {
        "role": "department",
        "department": "福州市委组织部",
        "name": "李科长",
    }
    assert shown["returned"]["at"].endswith("+08:00")
    listed = world.unit.get("/api/v1/entries").get_json()["items"]
    assert listed[0]["returned"]["reason"] == reason


def test_a_consenting_unit_gets_one_message_per_verdict(
    world, wechat, settings, status_template, run_jobs, fast_outbox
):
    grant(world, wechat, settings)
    entry = world.submitted(title="近邻党建激活社区治理的福州实践与经验总结")
    path = f"/api/v1/dept/entries/{entry['id']}"
    world.officer.post(path + "/return", json={"comment": "请补充成效数据"})
    run_jobs()
    sends = wechat.state.sends()
    assert sends_by_openid(wechat) == {"o-dept-unit": 1}
    data = sends[0]["data"]
    assert data["thing1"]["value"] == "近邻党建激活社区治理的福州实践与经验总结"[:20]
    assert data["phrase2"]["value"] == "已退回"
    assert data["thing3"]["value"] == "请补充成效数据"
    assert SubscriptionGrant.get().remaining == 0
    # resubmitted and endorsed, without a new grant: nothing is sent, nothing is composed
    assert world.unit.post(f"/api/v1/entries/{entry['id']}/submit").status_code == 200
    world.checked(entry["id"])
    assert world.officer.post(path + "/endorse").status_code == 200
    run_jobs()
    assert sends_by_openid(wechat) == {"o-dept-unit": 1}
    assert Notice.select().count() == 1


def test_no_grant_no_message(world, wechat, settings, status_template, run_jobs, fast_outbox):
    entry = world.submitted()
    world.officer.post(f"/api/v1/dept/entries/{entry['id']}/endorse", json={})
    run_jobs()
    assert wechat.state.sends() == []
    assert Notice.select().count() == 0


def test_endorsement_is_announced_too(
    world, wechat, settings, status_template, run_jobs, fast_outbox
):
    grant(world, wechat, settings)
    entry = world.submitted()
    world.officer.post(f"/api/v1/dept/entries/{entry['id']}/endorse")
    run_jobs()
    sends = wechat.state.sends()
    assert [s["data"]["phrase2"]["value"] for s in sends] == ["已推荐"]
