"""Organizers reassign a person: attribution and not-yet-judged entries move, audited."""

import pytest

from campaign.attribution import attribute
from models import Attribution, AuditLog, Channel, Department, Entry, Unit, WechatUser
from tests.channel_fixtures import error_code
from tests.factories import Organizer


@pytest.fixture
def org(client, campaign):
    return Organizer(client, campaign)


@pytest.fixture
def person(campaign, org):
    """A unit contact who came in through department A, with four entries in four states."""
    first = org.department("甲组织部", route="org_dept")
    second = org.department("乙党校", route="party_school")
    user = WechatUser.create(app="wxa", openid="o-move", unionid="union-1")
    twin = WechatUser.create(app="mp", openid="o-move-mp", unionid="union-1")
    attribute(campaign, twin, Channel.get_by_id(first["channels"][0]["id"]))
    unit = Unit.create(campaign=campaign, owner=user, name="某党支部")
    entries = {
        status: Entry.create(
            campaign=campaign, unit=unit, owner=user, route="org_dept", status=status,
            department=first["id"], channel=first["channels"][0]["id"],
        ).id
        for status in ("draft", "submitted", "endorsed", "under_review")
    }  # fmt: skip
    return {"user": user, "twin": twin, "first": first, "second": second, "entries": entries}


def test_a_person_and_their_unjudged_entries_move(org, person, campaign):
    response = org.put(
        f"/api/v1/org/users/{person['user'].id}/attribution",
        json={"department_id": person["second"]["id"], "reason": "误扫了甲组织部的海报"},
    )
    assert response.status_code == 200, response.get_json()
    moved = response.get_json()
    assert moved["route"] == "party_school" and moved["department_id"] == person["second"]["id"]
    assert sorted(moved["entries_moved"]) == sorted(
        [person["entries"]["draft"], person["entries"]["submitted"]]
    )
    for status, entry_id in person["entries"].items():
        entry = Entry.get_by_id(entry_id)
        expected = (
            person["second"]["id"] if status in ("draft", "submitted") else person["first"]["id"]
        )
        assert entry.department_id == expected, status
    for who in (person["user"], person["twin"]):  # both WeChat apps of the same person
        row = Attribution.get(Attribution.user == who)
        assert (row.department_id, row.route, row.channel_id) == (
            person["second"]["id"],
            "party_school",
            None,
        )
        assert row.reassigned_by == f"account:{org.account.id}"
    audit = AuditLog.get(AuditLog.action == "attribution.reassign")
    assert audit.after["reason"] == "误扫了甲组织部的海报"
    assert audit.before["attributions"][0]["department_id"] == person["first"]["id"]
    shown = org.get(f"/api/v1/org/users/{person['user'].id}/attribution").get_json()
    assert shown["department_id"] == person["second"]["id"]


def test_moving_to_the_open_route(org, person):
    response = org.put(
        f"/api/v1/org/users/{person['user'].id}/attribution",
        json={"department_id": None, "route": "online", "reason": "自行报名"},
    )
    assert response.get_json()["route"] == "online"
    assert Entry.get_by_id(person["entries"]["draft"]).department_id is None


def test_a_person_without_attribution_gets_one(org, campaign):
    department = org.department("丙行业部门", route="industry_dept")
    user = WechatUser.create(app="wxa", openid="o-new")
    response = org.put(
        f"/api/v1/org/users/{user.id}/attribution",
        json={"department_id": department["id"], "reason": "线下推荐"},
    )
    assert response.status_code == 200
    assert Attribution.get(Attribution.user == user).department_id == department["id"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"department_id": 999, "reason": "x"}, 422, "unknown_department"),
        ({"department_id": None, "route": "org_dept", "reason": "x"}, 422, "department_required"),
        ({"department_id": "1", "reason": "x"}, 422, "validation_failed"),
        ({"department_id": None}, 422, "validation_failed"),
    ],
)
def test_nonsense_is_refused(org, person, body, status, code):
    response = org.put(f"/api/v1/org/users/{person['user'].id}/attribution", json=body)
    assert (response.status_code, error_code(response)) == (status, code)
    assert AuditLog.select().where(AuditLog.action == "attribution.reassign").count() == 0


def test_route_must_match_the_department(org, person):
    response = org.put(
        f"/api/v1/org/users/{person['user'].id}/attribution",
        json={"department_id": person["second"]["id"], "route": "org_dept", "reason": "x"},
    )
    assert error_code(response) == "route_mismatch"
    Department.update(active=False).where(Department.id == person["second"]["id"]).execute()
    gone = org.put(
        f"/api/v1/org/users/{person['user'].id}/attribution",
        json={"department_id": person["second"]["id"], "reason": "x"},
    )
    assert error_code(gone) == "unknown_department"
    assert org.put("/api/v1/org/users/9999/attribution", json={"reason": "x"}).status_code == 404
