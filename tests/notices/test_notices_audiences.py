"""Audience filters: who is in which status, filters combined, one delivery per person."""

import pytest

from campaign.definition import options
from campaign.notices.audiences import check_audience, recipients
from models import (
    Account,
    Assignment,
    Attribution,
    Department,
    DepartmentMember,
    Entry,
    MailIn,
    Unit,
    WechatUser,
)


@pytest.fixture
def world(open_window):
    campaign = open_window
    d1 = Department.create(
        campaign=campaign,
        name="福州市委组织部",
        route="org_dept",
        region="福州市",
        invite_code="d1",
    )
    d2 = Department.create(
        campaign=campaign,
        name="厦门市国资委",
        route="industry_dept",
        region="厦门市",
        invite_code="d2",
    )
    people = {}

    def person(name, app="wxa", unionid=None, route="online", department=None):
        user = WechatUser.create(app=app, openid=f"o-{name}", unionid=unionid)
        Attribution.create(campaign=campaign, user=user, route=route, department=department)
        people[name] = user
        return user

    def unit(owner, region="福州市", domain="urban", *statuses, department=None):
        row = Unit.create(
            campaign=campaign, owner=owner, name=owner.openid, region=region, domain=domain
        )
        for state in statuses:
            entry = Entry.create(
                campaign=campaign,
                unit=row,
                owner=owner,
                route="org_dept" if department else "online",
                department=department,
                status=state,
                content_check="pass",
            )
            if state == "awarded":
                MailIn.create(entry=entry)
        return row

    person("newcomer")
    unit(person("registered", unionid="union-r"), "厦门市", "rural")
    person("registered_mp", app="mp", unionid="union-r")  # the same person on the account
    unit(person("drafting"), "福州市", "urban", "draft")
    unit(person("submitted", route="org_dept", department=d1), "福州市", "soe", "submitted",
         department=d1)  # fmt: skip
    unit(person("returned"), "福州市", "urban", "returned", "draft")
    unit(person("winner"), "福州市", "urban", "awarded")
    unit(person("withdrawn"), "福州市", "urban", "withdrawn")
    for name, department in (("member1", d1), ("member2", d2)):
        DepartmentMember.create(department=department, user=person(name))
    expert_user = person("expert")
    expert = Account.create(
        username="expert1", password_hash="x", role="expert", display_name="专家",
        campaign=campaign, wechat_user=expert_user,
    )  # fmt: skip
    entry = Entry.get(Entry.owner == people["submitted"])
    Assignment.create(entry=entry, expert=expert, assigned_by="test")
    return campaign, people, (d1, d2)


def names(campaign, people, audience) -> set[str]:
    clean, problems = check_audience(campaign, audience)
    assert problems == []
    by_id = {user.id: name for name, user in people.items()}
    return {by_id[user_id] for user_id in recipients(campaign, clean)}


def test_each_unit_status_finds_its_people(world):
    campaign, people, _ = world
    expected = {
        "no_unit": {"newcomer", "member1", "member2", "expert"},
        "no_entry": {"registered", "withdrawn"},
        "draft_only": {"drafting"},
        "submitted": {"submitted", "winner"},
        "returned": {"returned"},
        "mailin_pending": {"winner"},
    }
    for status, who in expected.items():
        assert names(campaign, people, {"status": [status]}) == who, status


def test_filters_of_one_kind_are_alternatives_and_kinds_combine(world):
    campaign, people, (d1, _) = world
    assert names(campaign, people, {"status": ["draft_only", "returned"]}) == {
        "drafting",
        "returned",
    }
    assert names(campaign, people, {"region": ["厦门市"]}) == {"registered"}
    assert names(campaign, people, {"domain": ["soe", "rural"]}) == {"submitted", "registered"}
    assert names(campaign, people, {"route": ["org_dept"]}) == {"submitted"}
    assert names(campaign, people, {"department": [d1.id], "status": ["submitted"]}) == {
        "submitted"
    }
    assert names(campaign, people, {"region": ["福州市"], "status": ["no_entry"]}) == {"withdrawn"}


def test_one_delivery_per_person(world):
    campaign, people, _ = world
    everyone = names(campaign, people, {})
    assert "registered" in everyone and "registered_mp" not in everyone
    assert len(everyone) == 10


def test_department_users_and_experts(world):
    campaign, people, (d1, d2) = world
    assert names(campaign, people, {"group": "department_users"}) == {"member1", "member2"}
    pending = {"group": "department_users", "status": ["endorsement_pending"]}
    assert names(campaign, people, pending) == {"member1"}
    assert names(campaign, people, {"group": "department_users", "region": ["厦门市"]}) == {
        "member2"
    }
    reviewing = {"group": "experts", "status": ["review_pending"]}
    assert names(campaign, people, reviewing) == {"expert"}
    Assignment.update(submitted_at=Assignment.assigned_at).execute()
    assert names(campaign, people, reviewing) == set()


def test_an_explicit_list_of_users(world):
    campaign, people, _ = world
    chosen = [people["newcomer"].id, people["winner"].id]
    assert names(campaign, people, {"users": chosen}) == {"newcomer", "winner"}
    _, problems = check_audience(campaign, {"users": [*chosen, 999_999, "x"]})
    assert problems[0]["code"] == "invalid_choice" and problems[0]["values"] == [999_999, "x"]


def test_audience_problems_are_listed(world):
    campaign, _, _ = world
    routes = {o.code for o in options(campaign, "route")}
    assert "online" in routes
    _, problems = check_audience(
        campaign,
        {"group": "experts", "region": ["福州市"], "status": ["no_unit"]},
    )
    assert {(p["field"], p["code"]) for p in problems} == {
        ("audience.region", "conflicting"),
        ("audience.status", "invalid_choice"),
    }
    assert check_audience(campaign, {"group": "everyone"})[1][0]["code"] == "invalid_choice"
    assert check_audience(campaign, {"status": "no_unit"})[1][0]["code"] == "invalid_type"
    assert check_audience(campaign, None)[1][0]["code"] == "invalid_type"
