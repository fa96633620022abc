"""Units, drafts, submit, withdraw and endorsement through the HTTP API (DESIGN §5.2, §9)."""

import datetime

import pytest

from models import (
    AuditLog,
    Campaign,
    Channel,
    Department,
    Entry,
    EntryRevision,
    LateCode,
    StatusChange,
    utcnow,
)
from tests.factories import (
    COMPLETE,
    UNIT,
    WechatCaller,
    add_evidence,
    codes,
    new_entry,
    registered_unit,
    zi,
)


@pytest.fixture
def unit(client, open_window):
    return registered_unit(client)


# --- unit profile -------------------------------------------------------------------------


def test_unit_problems_are_listed_at_once(client, open_window):
    caller = WechatCaller(client, "o-new")
    assert caller.get("/api/v1/me/unit").status_code == 404
    bad = {**UNIT, "name": "", "region": "火星", "contact_phone": "12345"}
    response = caller.put("/api/v1/me/unit", json=bad)
    assert response.status_code == 422
    assert codes(response) == {
        ("name", "required"),
        ("region", "invalid_choice"),
        ("contact_phone", "invalid_phone"),
    }
    assert all(f["message"] for f in response.get_json()["error"]["fields"])


def test_unit_is_registered_then_updated_with_a_normalized_phone(client, open_window):
    caller = WechatCaller(client, "o-u")
    assert caller.put("/api/v1/me/unit", json=UNIT).status_code == 201
    updated = caller.put("/api/v1/me/unit", json={**UNIT, "contact_phone": "(0591)87808286-661"})
    assert updated.status_code == 200
    assert updated.get_json()["contact_phone"] == "0591-87808286-661"
    assert AuditLog.select().where(AuditLog.action == "unit.update").count() == 1


# --- drafts -------------------------------------------------------------------------------


def test_an_entry_needs_a_unit_first(client, open_window):
    caller = WechatCaller(client, "o-nounit")
    response = caller.post("/api/v1/entries", json={"title": "x"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "unit_required"


def test_drafts_save_anything_and_count_live(unit):
    entry = new_entry(unit, title="半成品", abstract="2021年4月，福建省开展活动。")
    assert entry["status"] == "draft"
    assert entry["route"] == "online" and entry["department"] is None
    assert entry["counts"]["abstract"] == 13
    saved = unit.patch(f"/api/v1/entries/{entry['id']}", json={"background": zi(10)})
    assert saved.status_code == 200
    body = saved.get_json()
    assert body["counts"]["body"] == 10 and body["title"] == "半成品"
    assert EntryRevision.select().where(EntryRevision.entry == entry["id"]).count() == 2


def test_wrong_types_are_refused_but_nothing_saved_is_lost(unit):
    entry = new_entry(unit, title="原标题")
    response = unit.patch(f"/api/v1/entries/{entry['id']}", json={"title": 5, "themes": "x"})
    assert response.status_code == 422
    assert codes(response) == {("title", "invalid_type"), ("themes", "invalid_type")}
    assert unit.get(f"/api/v1/entries/{entry['id']}").get_json()["title"] == "原标题"


def test_only_the_last_twenty_revisions_are_kept(unit):
    entry = new_entry(unit, title="v0")
    for n in range(1, 26):
        unit.patch(f"/api/v1/entries/{entry['id']}", json={"title": f"v{n}"})
    revisions = EntryRevision.select().where(EntryRevision.entry == entry["id"])
    assert revisions.count() == 20
    assert {r.data["title"] for r in revisions} == {f"v{n}" for n in range(6, 26)}


def test_identity_and_status_in_the_body_are_ignored(unit, client):
    other = WechatCaller(client, "o-other")
    entry = new_entry(
        unit, title="t", status="awarded", owner=other.user.id, route="party_school", id=999
    )
    assert entry["status"] == "draft" and entry["route"] == "online" and entry["id"] != 999
    assert Entry.get_by_id(entry["id"]).owner_id == unit.user.id


def test_other_peoples_entries_are_404(unit, client):
    entry = new_entry(unit, title="mine")
    stranger = WechatCaller(client, "o-stranger")
    path = f"/api/v1/entries/{entry['id']}"
    for response in (
        stranger.get(path),
        stranger.patch(path, json={"title": "x"}),
        stranger.delete(path),
        stranger.post(path + "/submit"),
        stranger.post(path + "/withdraw"),
    ):
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
    assert stranger.get("/api/v1/entries").get_json() == {"items": []}


def test_the_same_person_in_the_other_app_reaches_the_entry(client, open_window):
    """One unionid, two apps: the official-account login edits and submits what the
    mini-program login wrote; a stranger with a unionid of their own still gets 404."""
    from models import WechatUser

    sibling = WechatCaller(client, "o-mp-side", app="mp")  # the lower id of the two
    writer = registered_unit(client, "o-wxa-side")
    for user in (sibling.user, writer.user):
        WechatUser.update(unionid="u-same").where(WechatUser.id == user.id).execute()
    entry = new_entry(writer, **COMPLETE)
    add_evidence(entry["id"])
    path = f"/api/v1/entries/{entry['id']}"
    stranger = WechatCaller(client, "o-mp-stranger", app="mp")
    WechatUser.update(unionid="u-other").where(WechatUser.id == stranger.user.id).execute()
    assert stranger.get(path).status_code == 404
    assert sibling.patch(path, json={"title": "公众号里改的题目"}).status_code == 200
    assert sibling.post(path + "/submit").status_code == 200
    assert writer.get(path).get_json()["title"] == "公众号里改的题目"
    assert writer.get(path).get_json()["status"] == "submitted"


# --- submit -------------------------------------------------------------------------------


def test_submit_lists_every_problem(unit):
    entry = new_entry(
        unit, track="case", domain="space", themes=["nope"], abstract=zi(150), background=zi(5)
    )
    response = unit.post(f"/api/v1/entries/{entry['id']}/submit")
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert codes(response) == {
        ("domain", "invalid_choice"),
        ("themes", "invalid_choice"),
        ("title", "required"),
        ("abstract", "too_short"),
        ("approach", "required"),
        ("results", "required"),
        ("significance", "required"),
        ("attachments", "evidence_missing"),
    }
    abstract = next(f for f in fields if f["field"] == "abstract")
    assert (abstract["count"], abstract["min"], abstract["max"]) == (150, 200, 300)
    assert Entry.get_by_id(entry["id"]).status == "draft"


def test_body_is_the_sum_of_the_four_elements(unit):
    entry = new_entry(unit, **{**COMPLETE, "background": zi(2000), "approach": zi(2000)})
    add_evidence(entry["id"])
    too_long = unit.post(f"/api/v1/entries/{entry['id']}/submit")
    assert codes(too_long) == {("body", "too_long")}
    body = next(f for f in too_long.get_json()["error"]["fields"] if f["field"] == "body")
    assert body["count"] == 2000 + 2000 + 800 + 700


def test_a_complete_entry_is_submitted_and_content_checked(unit, wechat, settings, run_jobs):
    wechat.state.add_user(settings.wxa.appid, "o-unit")
    entry = new_entry(unit, **COMPLETE)
    add_evidence(entry["id"])
    response = unit.post(f"/api/v1/entries/{entry['id']}/submit")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "submitted"
    assert response.get_json()["content_check"] == "pending"
    run_jobs()
    stored = Entry.get_by_id(entry["id"])
    assert stored.content_check == "pass"
    checks = [r for r in wechat.state.requests() if r["path"] == "/wxa/msg_sec_check"]
    assert len(checks) == 5  # title+abstract, then each element
    assert StatusChange.get(StatusChange.entry == stored.id).to_status == "submitted"
    again = unit.post(f"/api/v1/entries/{entry['id']}/submit")
    assert again.status_code == 409


def test_risky_text_holds_the_entry_back(unit, wechat, settings, run_jobs):
    wechat.state.add_user(settings.wxa.appid, "o-unit")
    wechat.state.set_sec_words(risky=["赌博"])
    entry = new_entry(unit, **{**COMPLETE, "results": zi(790) + "网络赌博成效显著"})
    add_evidence(entry["id"])
    assert unit.post(f"/api/v1/entries/{entry['id']}/submit").status_code == 200
    run_jobs()
    assert Entry.get_by_id(entry["id"]).content_check == "risky"


def test_wechat_failures_are_retried_not_passed(unit, wechat, settings, run_jobs):
    wechat.state.add_user(settings.wxa.appid, "o-unit")
    wechat.state.add_fault("/wxa/msg_sec_check", errcode=-1, times=1)
    entry = new_entry(unit, **COMPLETE)
    add_evidence(entry["id"])
    unit.post(f"/api/v1/entries/{entry['id']}/submit")
    run_jobs(allow_failures=True)
    assert Entry.get_by_id(entry["id"]).content_check == "pending"  # waiting for its retry


def test_after_the_deadline_only_a_late_code_opens_the_door(unit, open_window):
    entry = new_entry(unit, **COMPLETE)
    add_evidence(entry["id"])
    Campaign.update(closes_at=utcnow() - datetime.timedelta(hours=1)).execute()
    path = f"/api/v1/entries/{entry['id']}"
    late = unit.post(path + "/submit")
    assert codes(late) == {("deadline", "deadline_passed")}
    assert unit.patch(path, json={"title": "x"}).get_json()["error"]["code"] == "deadline_passed"
    LateCode.create(
        campaign=open_window,
        code="LATE-1",
        expires_at=utcnow() + datetime.timedelta(days=3),
        max_uses=1,
        created_by="organizer",
    )
    assert codes(unit.post(path + "/submit", json={"late_code": "WRONG"})) == {
        ("late_code", "late_code_invalid")
    }
    ok = unit.post(path + "/submit", json={"late_code": "LATE-1"})
    assert ok.status_code == 200
    assert LateCode.get().uses == 1


def test_withdraw_then_resubmit(unit):
    entry = new_entry(unit, **COMPLETE)
    add_evidence(entry["id"])
    path = f"/api/v1/entries/{entry['id']}"
    unit.post(path + "/submit")
    withdrawn = unit.post(path + "/withdraw")
    assert withdrawn.get_json()["status"] == "withdrawn"
    assert unit.patch(path, json={"title": "改后标题"}).status_code == 200
    assert unit.post(path + "/submit").get_json()["status"] == "submitted"


def test_drafts_can_be_deleted_submitted_entries_cannot(unit):
    draft = new_entry(unit, title="草稿")
    assert unit.delete(f"/api/v1/entries/{draft['id']}").status_code == 204
    assert Entry.get_or_none(Entry.id == draft["id"]) is None
    entry = new_entry(unit, **COMPLETE)
    add_evidence(entry["id"])
    unit.post(f"/api/v1/entries/{entry['id']}/submit")
    refused = unit.delete(f"/api/v1/entries/{entry['id']}")
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "not_deletable"


def test_edits_after_submit_are_logged(unit):
    entry = new_entry(unit, **COMPLETE)
    add_evidence(entry["id"])
    unit.post(f"/api/v1/entries/{entry['id']}/submit")
    unit.patch(f"/api/v1/entries/{entry['id']}", json={"title": "修改后的标题"})
    log = AuditLog.get(AuditLog.action == "entry.edit_after_submit")
    assert log.before == {"title": COMPLETE["title"]}
    assert log.after == {"title": "修改后的标题"}
    assert Entry.get_by_id(entry["id"]).status == "submitted"


# --- departments --------------------------------------------------------------------------


@pytest.fixture
def department_flow(client, open_window):
    department = Department.create(
        campaign=open_window, name="福州市委组织部", route="org_dept", invite_code="FZ-INVITE"
    )
    Channel.create(campaign=open_window, department=department, route="org_dept", code="fz2345abcd")
    unit = WechatCaller(client, "o-dept-unit")
    touched = unit.post("/api/v1/touches", json={"scene": "c%3Dfz2345abcd"})
    assert touched.get_json() == {
        "channel": "fz2345abcd",
        "route": "org_dept",
        "department": "福州市委组织部",
    }
    unit.put("/api/v1/me/unit", json=UNIT)
    entry = new_entry(unit, **COMPLETE)
    add_evidence(entry["id"])
    unit.post(f"/api/v1/entries/{entry['id']}/submit")
    Entry.update(content_check="pass").where(Entry.id == entry["id"]).execute()
    officer = WechatCaller(client, "o-officer")
    return department, entry, officer


def test_department_entries_are_attributed_and_endorsed(department_flow):
    department, entry, officer = department_flow
    assert entry["route"] == "org_dept"
    assert entry["department"] == {"id": department.id, "name": "福州市委组织部"}
    assert officer.get("/api/v1/dept/entries").status_code == 403
    assert officer.post("/api/v1/dept/bind", json={"invite_code": "FZ-INVITE"}).status_code == 200
    listed = officer.get("/api/v1/dept/entries").get_json()["items"]
    assert [e["id"] for e in listed] == [entry["id"]]
    endorsed = officer.post(f"/api/v1/dept/entries/{entry['id']}/endorse", json={})
    assert endorsed.get_json()["status"] == "endorsed"
    again = officer.post(f"/api/v1/dept/entries/{entry['id']}/endorse", json={})
    assert again.status_code == 409


def test_return_needs_a_reason_and_reopens_the_entry(department_flow):
    _, entry, officer = department_flow
    officer.post("/api/v1/dept/bind", json={"invite_code": "FZ-INVITE"})
    path = f"/api/v1/dept/entries/{entry['id']}/return"
    assert officer.post(path, json={}).status_code == 422
    returned = officer.post(path, json={"comment": "请补充成效数据"})
    assert returned.get_json()["status"] == "returned"
    assert StatusChange.get(StatusChange.to_status == "returned").note == "请补充成效数据"


def test_another_department_sees_nothing(department_flow, client, open_window):
    _, entry, _ = department_flow
    Department.create(campaign=open_window, name="其他", route="org_dept", invite_code="OTHER")
    outsider = WechatCaller(client, "o-outsider")
    outsider.post("/api/v1/dept/bind", json={"invite_code": "OTHER"})
    assert outsider.get("/api/v1/dept/entries").get_json() == {"items": []}
    refused = outsider.post(f"/api/v1/dept/entries/{entry['id']}/endorse", json={})
    assert refused.status_code == 404


def test_unchecked_text_is_not_shown_to_the_department(department_flow):
    _, entry, officer = department_flow
    Entry.update(content_check="risky").where(Entry.id == entry["id"]).execute()
    officer.post("/api/v1/dept/bind", json={"invite_code": "FZ-INVITE"})
    assert officer.get("/api/v1/dept/entries").get_json() == {"items": []}
