"""After submission an entry stays submittable: edits and evidence deletions that would break
a submit check are refused whole; an edited endorsed entry goes back to its department, which
sees what changed. Edits stop at the deadline (not at endorsement), late codes excepted."""

import datetime

from models import (
    Attachment,
    AuditLog,
    Campaign,
    Entry,
    EntryRevision,
    StatusChange,
    utcnow,
)
from tests.factories import COMPLETE, add_evidence, codes

pytest_plugins = ("tests.collection.fixtures",)


def test_a_breaking_edit_after_submit_is_refused_whole(world):
    entry = world.submitted()
    path = f"/api/v1/entries/{entry['id']}"
    revisions = EntryRevision.select().count()
    broken = {"abstract": "党", "background": "", "domain": "mars", "title": "新标题"}
    response = world.unit.patch(path, json=broken)
    assert response.status_code == 422
    assert codes(response) == {
        ("abstract", "too_short"),
        ("background", "required"),
        ("domain", "invalid_choice"),
    }
    stored = Entry.get_by_id(entry["id"])
    assert (stored.title, stored.abstract, stored.domain) == (
        COMPLETE["title"],
        COMPLETE["abstract"],
        COMPLETE["domain"],
    )
    assert stored.status == "submitted" and stored.version == entry["version"]
    assert EntryRevision.select().count() == revisions
    assert not AuditLog.select().where(AuditLog.action == "entry.edit_after_submit").exists()


def test_a_sound_edit_after_submit_is_saved_and_checked_again(world, run_jobs, wechat, settings):
    wechat.state.add_user(settings.wxa.appid, "o-dept-unit")
    entry = world.submitted()
    run_jobs()

    def checks() -> int:
        return sum(r["path"] == "/wxa/msg_sec_check" for r in wechat.state.requests())

    before = checks()
    response = world.unit.patch(f"/api/v1/entries/{entry['id']}", json={"title": "新标题"})
    assert response.status_code == 200
    assert response.get_json()["status"] == "submitted"
    run_jobs()
    assert checks() > before


def test_drafts_still_save_anything(world):
    draft = world.unit.post("/api/v1/entries", json={"title": "草稿"}).get_json()
    response = world.unit.patch(f"/api/v1/entries/{draft['id']}", json={"abstract": "党"})
    assert response.status_code == 200


def test_an_edit_of_an_endorsed_entry_sends_it_back_with_a_diff(world):
    entry = world.endorsed()
    path = f"/api/v1/entries/{entry['id']}"
    refused = world.unit.patch(path, json={"abstract": "党"})
    assert refused.status_code == 422
    assert Entry.get_by_id(entry["id"]).status == "endorsed"
    edited = world.unit.patch(path, json={"title": "近邻党建 2.0"})
    assert edited.status_code == 200
    assert edited.get_json()["status"] == "submitted"
    back = StatusChange.select().order_by(StatusChange.id.desc()).first()
    assert (back.from_status, back.to_status) == ("endorsed", "submitted")
    world.checked(entry["id"])
    diff = world.officer.get(f"/api/v1/dept/entries/{entry['id']}/changes").get_json()
    assert diff["fields"] == [
        {"field": "title", "before": COMPLETE["title"], "after": "近邻党建 2.0"}
    ]
    assert diff["attachments"] == {"added": [], "removed": []}
    again = world.officer.post(f"/api/v1/dept/entries/{entry['id']}/endorse")
    assert again.get_json()["status"] == "endorsed"
    assert (
        world.officer.get(f"/api/v1/dept/entries/{entry['id']}/changes").get_json()["fields"] == []
    )


def test_a_never_endorsed_entry_has_no_changes_to_show(world):
    entry = world.submitted()
    response = world.officer.get(f"/api/v1/dept/entries/{entry['id']}/changes")
    assert response.status_code == 200
    assert response.get_json() == {"endorsed_at": None, "fields": [], "attachments": None}


def test_the_last_piece_of_evidence_cannot_go_after_submit(world):
    entry = world.submitted()
    only = Attachment.get(Attachment.entry == entry["id"])
    path = f"/api/v1/entries/{entry['id']}/attachments/{only.id}"
    refused = world.unit.delete(path)
    assert refused.status_code == 422
    assert codes(refused) == {("attachments", "evidence_missing")}
    assert Attachment.get_or_none(Attachment.id == only.id) is not None
    add_evidence(entry["id"])
    assert world.unit.delete(path).status_code == 204


def test_deleting_evidence_of_an_endorsed_entry_sends_it_back(world):
    entry = world.endorsed()
    add_evidence(entry["id"])
    first = Attachment.select().where(Attachment.entry == entry["id"]).order_by(Attachment.id)[0]
    assert (
        world.unit.delete(f"/api/v1/entries/{entry['id']}/attachments/{first.id}").status_code
        == 204
    )
    assert Entry.get_by_id(entry["id"]).status == "submitted"
    world.checked(entry["id"])
    diff = world.officer.get(f"/api/v1/dept/entries/{entry['id']}/changes").get_json()
    assert [a["id"] for a in diff["attachments"]["removed"]] == [first.id]


def test_edits_stop_at_the_deadline_even_for_endorsed_entries(world):
    entry = world.endorsed()
    Campaign.update(closes_at=utcnow() - datetime.timedelta(hours=1)).execute()
    response = world.unit.patch(f"/api/v1/entries/{entry['id']}", json={"title": "迟到的修改"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "deadline_passed"
    assert Entry.get_by_id(entry["id"]).status == "endorsed"
