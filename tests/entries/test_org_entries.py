"""Organizer endpoints over entries and units."""

import datetime

import pytest

from campaign.accounts import create_account
from campaign.sessions import issue_token
from models import AuditLog, Campaign, Department, DuplicatePair, Entry, Unit, WechatUser, utcnow
from tests.factories import entry_row

PASSWORD = "organizer-password"


@pytest.fixture
def organizer(client, campaign):
    create_account("org", PASSWORD, "organizer", "组织者", campaign)
    token = client.post(
        "/api/v1/console/login", json={"username": "org", "password": PASSWORD}
    ).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_only_organizers_get_in(client, campaign):
    create_account("exp", PASSWORD, "expert", "专家", campaign)
    expert = client.post("/api/v1/console/login", json={"username": "exp", "password": PASSWORD})
    expert_headers = {"Authorization": f"Bearer {expert.get_json()['token']}"}
    wechat_token, _ = issue_token(WechatUser.create(app="wxa", openid="o"))
    assert client.get("/api/v1/org/entries").status_code == 401
    assert client.get("/api/v1/org/entries", headers=expert_headers).status_code == 403
    wechat_headers = {"Authorization": f"Bearer {wechat_token}"}
    assert client.get("/api/v1/org/entries", headers=wechat_headers).status_code == 401


def test_list_filters_and_pages(client, campaign, organizer):
    for n in range(5):
        entry_row(campaign, f"o-{n}", status="submitted" if n % 2 else "draft", title=f"t{n}")
    submitted = client.get("/api/v1/org/entries?status=submitted", headers=organizer).get_json()
    assert submitted["total"] == 2
    assert {e["title"] for e in submitted["items"]} == {"t1", "t3"}
    page = client.get("/api/v1/org/entries?size=2&page=3", headers=organizer).get_json()
    assert page["total"] == 5 and [e["title"] for e in page["items"]] == ["t0"]


def test_released_content_becomes_visible_to_the_department(client, campaign, organizer):
    department = Department.create(campaign=campaign, name="D", route="org_dept", invite_code="D1")
    entry = entry_row(
        campaign, "o-r", status="submitted", content_check="risky", department=department
    )
    from campaign.channels.recommending import visible_entries

    assert list(visible_entries(department)) == []
    response = client.post(
        f"/api/v1/org/entries/{entry.id}/content-decision",
        json={"decision": "release", "note": "人工复核无问题"},
        headers=organizer,
    )
    assert response.get_json()["content_check"] == "cleared"
    assert [e.id for e in visible_entries(department)] == [entry.id]
    assert AuditLog.get(AuditLog.action == "entry.content_decision").before == {
        "content_check": "risky"
    }
    bad = client.post(
        f"/api/v1/org/entries/{entry.id}/content-decision",
        json={"decision": "?"},
        headers=organizer,
    )
    assert bad.status_code == 422


def test_duplicates_are_listed_with_similarity(client, campaign, organizer):
    a = entry_row(campaign, "o-a", duplicate_group="1")
    b = entry_row(campaign, "o-b", duplicate_group="1")
    DuplicatePair.create(entry=b, other=a, similarity=0.8766)
    items = client.get("/api/v1/org/duplicates", headers=organizer).get_json()["items"]
    assert items == [{"entry": b.id, "other": a.id, "similarity": 0.877, "group": "1"}]


def test_merging_units_moves_their_entries(client, campaign, organizer):
    first = entry_row(campaign, "o-1")
    second = entry_row(campaign, "o-2")
    response = client.post(
        f"/api/v1/org/units/{second.unit_id}/merge", json={"into": first.unit_id}, headers=organizer
    )
    assert response.get_json()["entries"] == 2
    assert Unit.get_by_id(second.unit_id).merged_into_id == first.unit_id
    assert Entry.get_by_id(second.id).unit_id == first.unit_id
    itself = client.post(
        f"/api/v1/org/units/{first.unit_id}/merge", json={"into": first.unit_id}, headers=organizer
    )
    assert itself.status_code == 422


def test_late_codes_reopen_the_door_for_one_department(client, campaign, organizer):
    department = Department.create(campaign=campaign, name="D", route="org_dept", invite_code="D2")
    expires = (utcnow() + datetime.timedelta(days=2)).isoformat() + "+00:00"
    issued = client.post(
        "/api/v1/org/late-codes",
        json={"department": department.id, "expires_at": expires, "max_uses": 3, "note": "补报"},
        headers=organizer,
    )
    assert issued.status_code == 201
    code = issued.get_json()["code"]
    Campaign.update(closes_at=utcnow() - datetime.timedelta(hours=1)).execute()
    from campaign.entries.operations import find_late_code

    ours = entry_row(campaign, "o-ours", department=department)
    theirs = entry_row(campaign, "o-theirs")
    assert find_late_code(ours, code) is not None
    assert find_late_code(theirs, code) is None
    bad = client.post(
        "/api/v1/org/late-codes",
        json={"expires_at": "tomorrow", "max_uses": 0, "department": 999},
        headers=organizer,
    )
    fields = {f["field"] for f in bad.get_json()["error"]["fields"]}
    assert fields == {"expires_at", "max_uses", "department"}
