"""Publishing, freezing, finalizing and 递补 (DESIGN §5.4, issue 13)."""

import datetime

from campaign.entries import status
from campaign.publication import objections
from models import AuditLog, Entry, Publication, PublicationItem, StatusChange, Unit

PAST = {"starts_on": "2021-09-30"}  # window 2021-09-30 … 2021-10-12: over, finalizable


def publish(organizer, kind="final", **fields):
    response = organizer.post("/api/v1/org/publications", json={"kind": kind, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def open_window_dates():
    today = datetime.datetime.now(datetime.UTC).date()
    return {"starts_on": str(today - datetime.timedelta(days=1)),
            "ends_on": str(today + datetime.timedelta(days=10))}  # fmt: skip


def test_each_list_takes_its_own_entries_grouped_and_numbered(seed, organizer):
    shortlisted = seed.entry(to=status.SHORTLISTED, domain="urban")
    case = seed.entry(domain="urban", track="case")
    brand = seed.entry(domain="schools", track="case", award="brand")  # the decision wins
    seed.entry(to=status.UNDER_REVIEW)
    final = publish(organizer, **PAST)
    assert final["window"] == "closed" and final["ends_on"] == "2021-10-12"
    assert [(i["no"], i["entry"], i["award"]["code"]) for i in final["items"]] == [
        (1, brand.id, "brand"),
        (2, case.id, "case"),
    ]
    assert final["items"][0]["award"]["label"] == "新时代党建品牌"
    assert final["note"] == "排名不分先后"
    shortlist = publish(organizer, kind="shortlist", **PAST)
    assert [i["entry"] for i in shortlist["items"]] == [shortlisted.id]
    assert shortlist["kind_label"] == "初选名单"


def test_frozen_items_do_not_change_when_the_entry_is_edited(seed, organizer, client):
    entry = seed.entry()
    title, unit_name = entry.title, entry.unit.name
    published = publish(organizer)
    Entry.update(title="改过的标题", domain="soe").where(Entry.id == entry.id).execute()
    Unit.update(name="改过的单位名", region="厦门市").where(Unit.id == entry.unit_id).execute()
    item = PublicationItem.get(PublicationItem.publication == published["id"])
    frozen = (item.title, item.unit, item.region, item.domain)
    assert frozen == (title, unit_name, "福州市", "rural")
    seen = client.get(f"/api/v1/publications/{published['id']}").get_json()["items"][0]
    assert seen["title"] == title and seen["unit"] == unit_name
    assert "改过" not in client.get(f"/p/{published['id']}").get_data(as_text=True)


def test_a_unit_without_consent_is_listed_as_the_organizer_chose(seed, organizer):
    seed.entry(consent=False)
    seed.entry(consent=None)  # never asked: withheld too (explicit consent only)
    named = seed.entry(consent=True)
    preview = organizer.get("/api/v1/org/publications/preview?kind=final").get_json()
    assert preview["total"] == 3 and preview["withheld"] == 2
    items = publish(organizer, withheld_label="应本单位要求不公开名称")["items"]
    assert [i["unit"] for i in items] == ["应本单位要求不公开名称"] * 2 + [named.unit.name]
    assert [i["unit_withheld"] for i in items] == [True, True, False]


def test_nothing_to_publish_and_bad_input_are_clear_answers(organizer, seed):
    empty = organizer.post("/api/v1/org/publications", json={"kind": "final"})
    assert empty.status_code == 409
    assert empty.get_json()["error"]["code"] == "nothing_to_publish"
    bad = organizer.post(
        "/api/v1/org/publications",
        json={"kind": "best", "starts_on": "yesterday", "working_days": 0, "title": ""},
    )
    assert bad.status_code == 422
    fields = {f["field"] for f in bad.get_json()["error"]["fields"]}
    assert fields == {"kind", "starts_on", "working_days", "title"}


def test_a_year_without_holiday_data_needs_an_explicit_end(seed, organizer):
    seed.entry()
    missing = organizer.post(
        "/api/v1/org/publications", json={"kind": "final", "starts_on": "2099-03-02"}
    )
    assert missing.status_code == 422
    assert missing.get_json()["error"]["fields"][0]["code"] == "calendar_missing"
    given = publish(organizer, starts_on="2099-03-02", ends_on="2099-03-06")
    assert given["ends_on"] == "2099-03-06"


def test_the_end_date_stays_editable_and_is_audited(seed, organizer):
    seed.entry()
    published = publish(organizer, **PAST)
    path = f"/api/v1/org/publications/{published['id']}/window"
    assert organizer.put(path, json={"ends_on": "2021-09-01"}).status_code == 422
    cleared = organizer.put(path, json={"ends_on": None})  # a window always has an end
    assert (
        cleared.status_code == 422
        and cleared.get_json()["error"]["fields"][0]["code"] == "required"
    )
    changed = organizer.put(path, json={"ends_on": "2021-10-15"})
    assert changed.status_code == 200 and changed.get_json()["ends_on"] == "2021-10-15"
    audit = AuditLog.get(AuditLog.action == "publication.window")
    assert audit.before["ends_on"] == "2021-10-12" and audit.after["ends_on"] == "2021-10-15"


def test_finalizing_is_blocked_while_an_objection_is_open(seed, organizer):
    seed.entry()
    published = publish(organizer, **PAST)
    objection = organizer.post(
        f"/api/v1/org/publications/{published['id']}/objections",
        json={"received_via": "phone", "name": "张三", "phone": "13900001111",
              "content": "第1项材料与事实不符", "item": 1},
    )  # fmt: skip
    assert objection.status_code == 201, objection.get_json()
    finalize = f"/api/v1/org/publications/{published['id']}/finalize"
    blocked = organizer.post(finalize)
    assert blocked.status_code == 409
    assert blocked.get_json()["error"]["code"] == "objections_open"
    handle = f"/api/v1/org/publications/objections/{objection.get_json()['id']}/handle"
    assert organizer.post(handle, json={"to": "verifying"}).status_code == 200
    assert organizer.post(finalize).status_code == 409  # verifying is still open
    rejected = organizer.post(handle, json={"to": "rejected", "reply": "经核实，材料属实"})
    assert rejected.get_json()["replied_at"] is not None
    done = organizer.post(finalize)
    assert done.status_code == 200 and done.get_json()["state"] == "finalized"
    assert organizer.post(finalize).get_json()["error"]["code"] == "already_finalized"


def test_finalizing_waits_for_the_window_to_end(seed, organizer):
    seed.entry()
    published = publish(organizer, **open_window_dates())
    refused = organizer.post(f"/api/v1/org/publications/{published['id']}/finalize")
    assert refused.get_json()["error"]["code"] == "window_open"


def test_upheld_withdrawn_replacement_republished_as_version_2(seed, organizer, client):
    first = seed.entry(domain="rural")
    second = seed.entry(domain="urban")
    runner_up = seed.entry(to=status.SHORTLISTED, domain="soe")
    v1 = publish(organizer, **PAST)
    objection = objections.file_objection(
        Publication.get_by_id(v1["id"]),
        {"filer_kind": "unit", "unit_name": "某某单位", "name": "李四", "phone": "0591-87808286",
         "content": "第1项存在抄袭", "item": 1, "postmark_on": "2021-10-11"},
        "letter", "test", letter=None,
    )  # fmt: skip
    assert objection.entry_id == first.id  # a staff-entered letter; the scan is optional here
    handle = f"/api/v1/org/publications/objections/{objection.id}/handle"
    organizer.post(handle, json={"to": "verifying", "handler": "王处长"})
    upheld = organizer.post(handle, json={"to": "upheld", "reply": "经核实，异议成立"})
    assert upheld.status_code == 200, upheld.get_json()
    assert Entry.get_by_id(first.id).status == status.NOT_SELECTED
    change = StatusChange.get(
        (StatusChange.entry == first.id) & (StatusChange.to_status == status.NOT_SELECTED)
    )
    assert "异议成立" in change.note
    assert AuditLog.select().where(AuditLog.action == "objection.upheld").count() == 1
    republished = organizer.post(
        f"/api/v1/org/publications/{v1['id']}/republish",
        json={
            "reason": "第1项异议成立，递补第3项",
            "add": [{"entry": runner_up.id, "award": "case"}],
            **PAST,
        },
    )
    assert republished.status_code == 201, republished.get_json()
    v2 = republished.get_json()
    assert v2["version"] == 2 and v2["reason"].startswith("第1项异议成立")
    assert [i["entry"] for i in v2["items"]] == [second.id, runner_up.id]
    assert Entry.get_by_id(runner_up.id).status == status.AWARDED
    old = client.get(f"/api/v1/publications/{v1['id']}").get_json()
    assert old["state"] == "superseded" and old["latest"] == v2["id"]
    assert [i["title"] for i in old["items"]] == [first.title, second.title]
    current = client.get("/api/v1/publications/current").get_json()
    assert current["id"] == v2["id"] and len(current["versions"]) == 2
    assert "旧版本" in client.get(f"/p/{v1['id']}").get_data(as_text=True)
    again = organizer.post(f"/api/v1/org/publications/{v1['id']}/republish", json={"reason": "x"})
    assert again.get_json()["error"]["code"] == "superseded"
    same = organizer.post(f"/api/v1/org/publications/{v2['id']}/republish", json={"reason": "x"})
    assert same.get_json()["error"]["code"] == "nothing_changed"


def test_replacements_are_checked_all_at_once(seed, organizer):
    listed = seed.entry()
    draft = seed.entry(to=status.SUBMITTED)
    v1 = publish(organizer, **PAST)
    response = organizer.post(
        f"/api/v1/org/publications/{v1['id']}/republish",
        json={"reason": "", "add": [{"entry": listed.id, "award": "case"},
                                    {"entry": draft.id, "award": "gold"},
                                    {"entry": 10**9, "award": "case"}]},
    )  # fmt: skip
    assert response.status_code == 422
    codes = {(f["field"], f["code"]) for f in response.get_json()["error"]["fields"]}
    assert codes == {
        ("reason", "required"),
        ("add[0].entry", "already_listed"),
        ("add[1].award", "invalid_choice"),
        ("add[1].entry", "wrong_status"),
        ("add[2].entry", "not_found"),
    }
