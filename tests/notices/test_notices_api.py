"""Organizer endpoints for templates and notices, through Flask's client, sent through the
WeChat sandbox by a real RQ worker (in-process, burst mode)."""

import datetime

import pytest

from campaign.clock import to_local
from campaign.sessions import issue_token
from models import AuditLog, Delivery, MessageTemplate, Notice, WechatUser, utcnow
from tasks.notices import sweep_outbox
from tests.notice_helpers import (
    MP_TEMPLATE,
    WXA_FIELDS,
    WXA_TEMPLATE,
    add_recipients,
    add_templates,
    notice_body,
    sends_by_openid,
)

pytest_plugins = ("tests.notice_fixtures",)  # organizer, fast_outbox


def codes(response) -> set:
    return {(f["field"], f["code"]) for f in response.get_json()["error"]["fields"]}


# --- templates ----------------------------------------------------------------------------


def test_templates_are_configured_and_checked(organizer):
    body = {
        "template_id": "tpl-A_1",
        "title": "截止提醒",
        "channel": "wxa_subscribe",
        "purpose": "deadline",
        "long_term": True,
        "fields": {"thing1": {"label": "活动", "source": "campaign_title"}},
        "page": "pages/index/index",
    }
    created = organizer.post("/api/v1/org/templates", json=body)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["long_term"] is True
    again = organizer.post("/api/v1/org/templates", json=body)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "template_exists"
    listed = organizer.get("/api/v1/org/templates").get_json()["items"]
    assert [t["template_id"] for t in listed] == ["tpl-A_1"]
    patched = organizer.patch(f"/api/v1/org/templates/{listed[0]['id']}", json={"title": "新"})
    assert patched.get_json()["title"] == "新" and patched.get_json()["channel"] == "wxa_subscribe"
    assert AuditLog.select().where(AuditLog.action.startswith("template.")).count() == 2


def test_a_bad_template_lists_every_problem(organizer):
    body = {
        "template_id": "bad id!",
        "channel": "sms",
        "long_term": "yes",
        "fields": {
            "thing1": {"label": "x", "value": "这" * 21},
            "time2": {"source": "tomorrow"},
            "9x": {},
        },
    }
    response = organizer.post("/api/v1/org/templates", json=body)
    assert response.status_code == 422
    assert codes(response) == {
        ("template_id", "invalid_format"),
        ("title", "required"),
        ("channel", "invalid_choice"),
        ("long_term", "invalid_type"),
        ("fields.thing1.value", "too_long"),
        ("fields.time2.source", "invalid_choice"),
        ("fields.9x", "invalid_format"),
    }
    assert all(f["message"] for f in response.get_json()["error"]["fields"])
    assert MessageTemplate.select().count() == 0


def test_a_template_in_use_cannot_be_deleted(organizer, wechat, settings):
    wxa, mp = add_templates(organizer.account.campaign, wechat, settings)
    organizer.post("/api/v1/org/notices", json=notice_body(wxa, fallback_template=mp.id))
    for template in (wxa, mp):
        refused = organizer.delete(f"/api/v1/org/templates/{template.id}")
        assert refused.status_code == 409
        assert refused.get_json()["error"]["code"] == "template_in_use"
    spare = MessageTemplate.create(
        campaign=wxa.campaign, purpose="general", channel="mp_template", template_id="x", title="x"
    )
    assert organizer.delete(f"/api/v1/org/templates/{spare.id}").status_code == 204


def test_only_organizers_manage_notices(client, organizer, open_window):
    assert client.get("/api/v1/org/notices").status_code == 401
    expert = type(organizer)(client, open_window, username="expert1", role="expert")
    refused = expert.get("/api/v1/org/notices")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    user_token, _ = issue_token(WechatUser.create(app="wxa", openid="o-unit"))
    as_user = client.get("/api/v1/org/notices", headers={"Authorization": f"Bearer {user_token}"})
    assert as_user.status_code == 401


# --- composing ------------------------------------------------------------------------------


def test_every_problem_of_a_notice_is_listed_before_anything_is_sent(organizer, wechat, settings):
    wxa, mp = add_templates(organizer.account.campaign, wechat, settings)
    body = {
        "title": "",
        "template": wxa.id,
        "fallback_template": wxa.id,
        "values": {"thing1": "这是一个超过二十个字的活动名称用来测试长度限制", "nope": "x"},
        "audience": {"group": "units", "status": ["lost"], "region": ["火星"], "users": [1]},
    }
    response = organizer.post("/api/v1/org/notices", json=body)
    assert response.status_code == 422
    assert codes(response) == {
        ("title", "required"),
        ("fallback_template", "wrong_channel"),
        ("values.thing1", "too_long"),
        ("values.thing3", "required"),
        ("values.nope", "unknown_field"),
        ("audience.status", "invalid_choice"),
        ("audience.region", "invalid_choice"),
        ("audience.users", "conflicting"),
    }
    too_long = next(f for f in response.get_json()["error"]["fields"] if f["code"] == "too_long")
    assert too_long["max"] == 20 and too_long["count"] == 23
    assert Notice.select().count() == 0


def test_values_follow_wechat_rules_per_keyword_type(organizer, wechat, settings):
    campaign = organizer.account.campaign
    fields = {
        "number1": {},
        "phrase2": {},
        "character_string3": {},
        "date4": {},
        "time5": {},
        "amount6": {},
    }
    template = MessageTemplate.create(
        campaign=campaign,
        purpose="general",
        channel="wxa_subscribe",
        template_id="tpl-types",
        title="t",
        fields=fields,
    )
    bad = {
        "number1": "12a",
        "phrase2": "已经提交完成",
        "character_string3": "有中文",
        "date4": "明天",
        "time5": "25:00",
        "amount6": "一百元",
    }
    response = organizer.post("/api/v1/org/notices", json=notice_body(template, values=bad))
    assert codes(response) == {
        ("values.number1", "invalid_format"),
        ("values.phrase2", "too_long"),
        ("values.character_string3", "invalid_format"),
        ("values.date4", "invalid_format"),
        ("values.time5", "invalid_format"),
        ("values.amount6", "invalid_format"),
    }
    good = {
        "number1": "-12.5",
        "phrase2": "已提交",
        "character_string3": "NO-2021_10",
        "date4": "2021年10月31日",
        "time5": "2021-10-31 23:59~2021-11-01 09:00",
        "amount6": "￥100.50",
    }
    created = organizer.post("/api/v1/org/notices", json=notice_body(template, values=good))
    assert created.status_code == 201, created.get_json()


def test_a_draft_renders_its_values_and_can_be_edited(organizer, wechat, settings):
    wxa, _ = add_templates(organizer.account.campaign, wechat, settings)
    created = organizer.post("/api/v1/org/notices", json=notice_body(wxa))
    notice = created.get_json()
    assert notice["state"] == "draft"
    assert notice["values"]["thing1"] == "福建省新时代党建品牌、优秀案例征集"
    closes = to_local(organizer.account.campaign.closes_at, "Asia/Shanghai")
    assert notice["values"]["time2"] == f"{closes:%Y年%m月%d日 %H:%M}"  # the deadline, local
    edited = organizer.patch(f"/api/v1/org/notices/{notice['id']}", json={"title": "改过的标题"})
    assert edited.get_json()["title"] == "改过的标题"
    assert edited.get_json()["values"] == notice["values"]


def test_preview_counts_and_samples_without_creating_anything(organizer, wechat, settings):
    campaign = organizer.account.campaign
    wxa, mp = add_templates(campaign, wechat, settings)
    add_recipients(campaign, wechat, settings, 12)
    add_recipients(campaign, wechat, settings, 3, grant=False, prefix="o-nogrant")
    body = {"template": wxa.id, "fallback_template": mp.id, "audience": {"region": ["福州市"]}}
    preview = organizer.post("/api/v1/org/notices/preview", json=body).get_json()
    assert preview["count"] == 15
    assert len(preview["sample"]) == 10 and preview["sample"][0]["unit"] == "单位0"
    assert preview["reachable"] == {"template": 12, "fallback": 0, "unreachable": 3}
    assert Notice.select().count() == 0
    empty = organizer.post("/api/v1/org/notices/preview", json={"audience": {"region": ["厦门市"]}})
    assert empty.get_json()["count"] == 0


# --- sending --------------------------------------------------------------------------------


def test_send_now_reaches_everyone_with_consent_once(
    organizer, wechat, settings, run_jobs, fast_outbox
):
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    with_grant = add_recipients(campaign, wechat, settings, 7)
    without = add_recipients(campaign, wechat, settings, 2, grant=False, prefix="o-no")
    notice = organizer.post("/api/v1/org/notices", json=notice_body(wxa)).get_json()
    sent = organizer.post(f"/api/v1/org/notices/{notice['id']}/send", json={})
    assert sent.status_code == 202 and sent.get_json()["state"] == "preparing"
    run_jobs()
    shown = organizer.get(f"/api/v1/org/notices/{notice['id']}").get_json()
    assert shown["state"] == "done"
    progress = shown["progress"]
    assert (progress["total"], progress["sent"], progress["no_consent"]) == (9, 7, 2)
    assert progress["no_consent_by_reason"] == {"no_grant": 2}
    assert progress["remaining"] == 0 and progress["sent_by_channel"] == {"wxa_subscribe": 7}
    assert sends_by_openid(wechat) == {user.openid: 1 for user in with_grant}
    payload = wechat.state.sends()[0]["data"]
    assert payload["thing3"] == {"value": "请尽快提交案例"}
    assert not {u.openid for u in without} & set(sends_by_openid(wechat))
    again = organizer.post(f"/api/v1/org/notices/{notice['id']}/send", json={})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "notice_not_draft"


def test_the_fallback_reaches_followers_without_consent(
    organizer, wechat, settings, run_jobs, fast_outbox
):
    campaign = organizer.account.campaign
    wxa, mp = add_templates(campaign, wechat, settings)
    (consenting,) = add_recipients(campaign, wechat, settings, 1)
    follower, stranger = add_recipients(campaign, wechat, settings, 2, grant=False, prefix="o-f")
    WechatUser.update(unionid="union-1").where(WechatUser.id == follower.id).execute()
    twin = WechatUser.create(app="mp", openid="o-mp-twin", unionid="union-1", follower=True)
    wechat.state.add_user(settings.mp.appid, twin.openid, follower=True)
    notice = organizer.post("/api/v1/org/notices", json=notice_body(wxa, fallback_template=mp.id))
    organizer.post(f"/api/v1/org/notices/{notice.get_json()['id']}/send", json={})
    run_jobs()
    sends = {(s["api"], s["openid"]) for s in wechat.state.sends()}
    assert sends == {("subscribe/send", consenting.openid), ("template/send", twin.openid)}
    rows = {d.user_id: (d.state, d.channel, d.reason) for d in Delivery.select()}
    assert rows == {
        consenting.id: ("sent", "wxa_subscribe", ""),
        follower.id: ("sent", "mp_template", ""),
        stranger.id: ("no_consent", "", "no_grant"),
    }


def test_a_notice_at_a_time_waits_for_it(organizer, wechat, settings, run_jobs, fast_outbox):
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    add_recipients(campaign, wechat, settings, 2)
    notice_id = organizer.post("/api/v1/org/notices", json=notice_body(wxa)).get_json()["id"]
    at = (utcnow() + datetime.timedelta(hours=2)).replace(tzinfo=datetime.UTC).isoformat()
    scheduled = organizer.post(f"/api/v1/org/notices/{notice_id}/send", json={"at": at})
    assert scheduled.get_json()["state"] == "scheduled"
    sweep_outbox()
    run_jobs()
    assert Notice.get_by_id(notice_id).state == "scheduled" and not wechat.state.sends()
    Notice.update(send_at=utcnow() - datetime.timedelta(seconds=1)).execute()  # time passes
    assert sweep_outbox()["started"] == 1
    run_jobs()
    assert Notice.get_by_id(notice_id).state == "done" and len(wechat.state.sends()) == 2


def test_relative_to_the_deadline_in_campaign_time(organizer, wechat, settings):
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    notice_id = organizer.post("/api/v1/org/notices", json=notice_body(wxa)).get_json()["id"]
    when = {"before_deadline": {"days": 7, "time": "09:00"}}
    scheduled = organizer.post(f"/api/v1/org/notices/{notice_id}/send", json=when).get_json()
    send_at = datetime.datetime.fromisoformat(scheduled["send_at"])
    closes = datetime.datetime.fromisoformat(
        organizer.get("/api/v1/campaign").get_json()["closes_at"]
    )
    assert send_at.utcoffset() == datetime.timedelta(hours=8)
    assert (send_at.hour, send_at.minute) == (9, 0)
    assert send_at.date() == closes.date() - datetime.timedelta(days=7)


@pytest.mark.parametrize(
    "when, field",
    [
        ({"at": "2000-01-01T09:00:00+08:00"}, "at"),
        ({"at": "next tuesday"}, "at"),
        ({"before_deadline": {"days": 60}}, "before_deadline"),
        ({"before_deadline": {"days": 1, "time": "25:00"}}, "before_deadline.time"),
        ({"at": "2030-01-01T09:00:00", "before_deadline": {"days": 1}}, "at"),
    ],
)
def test_bad_send_times_are_refused(organizer, wechat, settings, when, field):
    wxa, _ = add_templates(organizer.account.campaign, wechat, settings)
    notice_id = organizer.post("/api/v1/org/notices", json=notice_body(wxa)).get_json()["id"]
    response = organizer.post(f"/api/v1/org/notices/{notice_id}/send", json=when)
    assert response.status_code == 422
    assert {f for f, _ in codes(response)} == {field}
    assert Notice.get_by_id(notice_id).state == "draft"


def test_cancel_before_it_starts_only(organizer, wechat, settings, run_jobs, fast_outbox):
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    add_recipients(campaign, wechat, settings, 1)
    first = organizer.post("/api/v1/org/notices", json=notice_body(wxa)).get_json()["id"]
    later = {"before_deadline": {"days": 1}}
    organizer.post(f"/api/v1/org/notices/{first}/send", json=later)
    cancelled = organizer.post(f"/api/v1/org/notices/{first}/cancel")
    assert cancelled.get_json()["state"] == "cancelled"
    second = organizer.post("/api/v1/org/notices", json=notice_body(wxa)).get_json()["id"]
    organizer.post(f"/api/v1/org/notices/{second}/send", json={})
    run_jobs()
    refused = organizer.post(f"/api/v1/org/notices/{second}/cancel")
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "notice_started"
    assert refused.get_json()["error"]["fields"] == [{"state": "done"}]


def test_pause_stops_new_sends_and_resume_finishes(
    organizer, wechat, settings, run_jobs, fast_outbox
):
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    add_recipients(campaign, wechat, settings, 30)
    notice_id = organizer.post("/api/v1/org/notices", json=notice_body(wxa)).get_json()["id"]
    organizer.post(f"/api/v1/org/notices/{notice_id}/send", json={})
    from tasks.notices import fan_out

    fan_out(notice_id)  # rows exist, chains enqueued but not run yet
    paused = organizer.post(f"/api/v1/org/notices/{notice_id}/pause")
    assert paused.get_json()["state"] == "paused"
    assert paused.get_json()["state_reason"] == "organizer"
    run_jobs()
    assert not wechat.state.sends()
    assert organizer.post(f"/api/v1/org/notices/{notice_id}/pause").status_code == 409
    resumed = organizer.post(f"/api/v1/org/notices/{notice_id}/resume")
    assert resumed.get_json()["state"] == "sending"
    run_jobs()
    assert Notice.get_by_id(notice_id).state == "done"
    assert sorted(sends_by_openid(wechat).values()) == [1] * 30
    actions = [a.action for a in AuditLog.select().order_by(AuditLog.id)]
    assert actions[-3:] == ["notice.schedule", "notice.pause", "notice.resume"]


def test_deliveries_are_listed_by_state_for_the_organizer(
    organizer, wechat, settings, run_jobs, fast_outbox
):
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    add_recipients(campaign, wechat, settings, 3)
    add_recipients(campaign, wechat, settings, 2, grant=False, prefix="o-no")
    notice_id = organizer.post("/api/v1/org/notices", json=notice_body(wxa)).get_json()["id"]
    organizer.post(f"/api/v1/org/notices/{notice_id}/send", json={})
    run_jobs()
    page = organizer.get(f"/api/v1/org/notices/{notice_id}/deliveries?state=no_consent&limit=1")
    body = page.get_json()
    assert [item["reason"] for item in body["items"]] == ["no_grant"]
    assert body["items"][0]["unit"] == "单位0" and body["next"] == body["items"][0]["id"]
    rest = organizer.get(
        f"/api/v1/org/notices/{notice_id}/deliveries?state=no_consent&after={body['next']}"
    ).get_json()
    assert len(rest["items"]) == 1 and rest["next"] is None
    bad = organizer.get(f"/api/v1/org/notices/{notice_id}/deliveries?state=lost")
    assert bad.status_code == 422
    assert organizer.get("/api/v1/org/notices/999999").status_code == 404


def test_the_template_id_is_what_wechat_receives(
    organizer, wechat, settings, run_jobs, fast_outbox
):
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    add_recipients(campaign, wechat, settings, 1)
    notice_id = organizer.post("/api/v1/org/notices", json=notice_body(wxa)).get_json()["id"]
    organizer.post(f"/api/v1/org/notices/{notice_id}/send", json={})
    run_jobs()
    (send,) = wechat.state.sends()
    assert send["template_id"] == WXA_TEMPLATE and set(send["data"]) == set(WXA_FIELDS)
    assert MP_TEMPLATE not in {s["template_id"] for s in wechat.state.sends()}


def test_notices_are_listed_newest_first_and_by_state(organizer, wechat, settings):
    wxa, _ = add_templates(organizer.account.campaign, wechat, settings)
    first = organizer.post("/api/v1/org/notices", json=notice_body(wxa)).get_json()["id"]
    second = organizer.post("/api/v1/org/notices", json=notice_body(wxa)).get_json()["id"]
    organizer.post(f"/api/v1/org/notices/{first}/cancel")
    listed = organizer.get("/api/v1/org/notices").get_json()["items"]
    assert [n["id"] for n in listed] == [second, first]
    cancelled = organizer.get("/api/v1/org/notices?state=cancelled").get_json()["items"]
    assert [n["id"] for n in cancelled] == [first]
    assert organizer.get("/api/v1/org/notices?state=lost").status_code == 422
