"""The audit log is readable by organizers (filters by object, actor, action and time, paged)
and keeps no phone number whole."""

import datetime

from campaign.audit import campaign_of, record
from models import Attachment, AuditLog, Unit, WechatUser, utcnow
from tests.factories import UNIT, Organizer

pytest_plugins = ("tests.collection.fixtures",)


def test_phones_are_stored_masked(world):
    world.unit.put("/api/v1/me/unit", json={**UNIT, "contact_phone": "13912345678"})
    row = AuditLog.select().where(AuditLog.action == "unit.update").get()
    stored = f"{row.before} {row.after}"
    assert "13912345678" not in stored and "13800138000" not in stored
    assert row.after["contact_phone"] == "139****5678"
    owner = WechatUser.get(WechatUser.openid == "o-dept-unit")
    unit = Unit.get(Unit.owner == owner)
    record("account:1", "unit.note", unit, None, {"note": "请拨 0591-87808286 或 13700001111"})
    note = AuditLog.get(AuditLog.action == "unit.note")
    assert note.after == {"note": "请拨 059****8286 或 137****1111"}


def page(organizer, **params):
    response = organizer.get("/api/v1/org/audit", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_organizers_filter_and_page_the_log(world, client):
    entry = world.submitted()
    world.officer.post(f"/api/v1/dept/entries/{entry['id']}/return", json={"comment": "补充"})
    organizer = Organizer(client, world.campaign)
    everything = page(organizer)
    assert (
        everything["total"]
        == AuditLog.select().where(AuditLog.campaign == world.campaign.id).count()
    )
    ids = [item["id"] for item in everything["items"]]
    assert ids == sorted(ids, reverse=True)  # newest first
    on_entry = page(organizer, object_type="entry", object_id=str(entry["id"]))
    assert {i["action"] for i in on_entry["items"]} == {"entry.create", "entry.status"}
    by_officer = page(organizer, actor=f"user:{world.officer.user.id}")
    assert {i["actor"] for i in by_officer["items"]} == {f"user:{world.officer.user.id}"}
    returns = [i for i in by_officer["items"] if i["action"] == "entry.status"]
    assert [i["after"]["status"] for i in returns] == ["returned"]
    statuses = page(organizer, action="entry.status")
    assert statuses["total"] == 2
    prefixed = page(organizer, action="entry.")
    assert prefixed["total"] == 3
    first = page(organizer, size=2, page=1)["items"]
    second = page(organizer, size=2, page=2)["items"]
    assert len(first) == 2 and not {i["id"] for i in first} & {i["id"] for i in second}
    later = (utcnow() + datetime.timedelta(minutes=1)).isoformat()
    assert page(organizer, since=later)["total"] == 0
    assert page(organizer, until=later)["total"] == everything["total"]
    assert page(organizer, since="2000-01-01T00:00:00+08:00")["total"] == everything["total"]
    bad = organizer.get("/api/v1/org/audit", query_string={"since": "yesterday", "until": "x"})
    assert bad.status_code == 422
    assert {f["field"] for f in bad.get_json()["error"]["fields"]} == {"since", "until"}


def test_moments_that_overflow_are_a_422(client, campaign):
    organizer = Organizer(client, campaign)
    response = organizer.get(
        "/api/v1/org/audit", query_string={"since": "0001-01-01T00:00:00+01:00"}
    )
    assert response.status_code == 422


def test_every_change_to_a_campaigns_objects_is_in_its_log(world, client):
    """Rows are filed under the campaign of the object they are about, even when the caller
    names no campaign: an attachment through its entry, a unit through its own column."""
    world.unit.put("/api/v1/me/unit", json={**UNIT, "contact_phone": "13912345678"})
    entry = world.submitted()
    organizer = Organizer(client, world.campaign)
    actions = {item["action"] for item in page(organizer, size=200)["items"]}
    assert {"unit.update", "entry.create", "entry.status"} <= actions
    unfiled = AuditLog.select().where(AuditLog.campaign.is_null())
    assert [(r.action, r.object_type) for r in unfiled if r.object_type != "account"] == []
    owner = WechatUser.get(WechatUser.openid == "o-dept-unit")
    unit = Unit.get(Unit.owner == owner)
    record("system", "unit.note", unit)
    assert AuditLog.get(AuditLog.action == "unit.note").campaign_id == world.campaign.id
    evidence = Attachment(id=0, entry=entry["id"], kind="photo")
    assert campaign_of(evidence) == world.campaign.id  # through its entry
