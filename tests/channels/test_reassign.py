"""Reassigning a person, as plain functions: which targets make sense, and what moves (only
this person, only this campaign, only entries the department has not judged yet)."""

import pytest

from campaign.attribution import attribute
from campaign.channels import reassign
from models import Attribution, AuditLog, Channel, Department, Entry, Unit, WechatUser
from tests.factories import other_campaign


def department(campaign, name, route="org_dept", active=True):
    made = Department.create(campaign=campaign, name=name, route=route, invite_code=f"i-{name}",
                             active=active)  # fmt: skip
    channel = Channel.create(campaign=campaign, department=made, route=route, code=f"c{made.id}aaa")
    return made, channel


def entries_of(campaign, user, department, channel, statuses):
    unit = Unit.get_or_none((Unit.campaign == campaign) & (Unit.owner == user)) or Unit.create(
        campaign=campaign, owner=user, name="某党支部"
    )
    return {
        state: Entry.create(campaign=campaign, unit=unit, owner=user, route=department.route,
                            status=state, department=department, channel=channel).id
        for state in statuses
    }  # fmt: skip


# --- target ----------------------------------------------------------------------------------


def test_no_department_means_the_online_route(campaign):
    assert reassign.target(campaign, None, None) == ("online", None)
    assert reassign.target(campaign, None, "online") == ("online", None)


def test_a_department_brings_its_route(campaign):
    school, _ = department(campaign, "党校", route="party_school")
    assert reassign.target(campaign, school.id, None) == ("party_school", school)
    assert reassign.target(campaign, school.id, "party_school")[1].id == school.id


@pytest.mark.parametrize(
    "case, code",
    [
        ("recommended route without a department", "department_required"),
        ("inactive department", "unknown_department"),
        ("another campaign's department", "unknown_department"),
        ("missing department", "unknown_department"),
        ("route of another kind", "route_mismatch"),
    ],
)
def test_targets_that_make_no_sense_are_refused(campaign, case, code):
    active, _ = department(campaign, "甲")
    inactive, _ = department(campaign, "停用", active=False)
    foreign, _ = department(other_campaign(campaign), "外省")
    department_id, route = {
        "recommended route without a department": (None, "org_dept"),
        "inactive department": (inactive.id, None),
        "another campaign's department": (foreign.id, None),
        "missing department": (99999, None),
        "route of another kind": (active.id, "party_school"),
    }[case]
    with pytest.raises(reassign.ReassignRefused) as caught:
        reassign.target(campaign, department_id, route)
    assert (caught.value.code, caught.value.status) == (code, 422)
    assert caught.value.message


# --- reassign --------------------------------------------------------------------------------


@pytest.fixture
def world(campaign):
    first, first_channel = department(campaign, "甲")
    second, _ = department(campaign, "乙", route="industry_dept")
    user = WechatUser.create(app="wxa", openid="o-move", unionid="u-1")
    twin = WechatUser.create(app="mp", openid="o-move-mp", unionid="u-1")
    stranger = WechatUser.create(app="wxa", openid="o-stay")
    for who in (user, twin, stranger):
        attribute(campaign, who, first_channel)
    mine = entries_of(campaign, user, first, first_channel, ["draft", "returned", "endorsed"])
    theirs = entries_of(campaign, stranger, first, first_channel, ["draft"])
    return {"first": first, "second": second, "user": user, "twin": twin,
            "stranger": stranger, "mine": mine, "theirs": theirs}  # fmt: skip


def test_the_person_moves_in_both_apps_and_only_unjudged_entries_follow(campaign, world):
    moved = reassign.reassign(campaign, world["user"], "industry_dept", world["second"],
                              "account:1", "误扫海报")  # fmt: skip
    assert {**moved, "entries_moved": sorted(moved["entries_moved"])} == {
        "user_id": world["user"].id,
        "route": "industry_dept",
        "department_id": world["second"].id,
        "entries_moved": sorted([world["mine"]["draft"], world["mine"]["returned"]]),
    }
    for who in ("user", "twin"):
        row = Attribution.get(Attribution.user == world[who])
        assert (row.route, row.department_id, row.channel_id, row.reassigned_by) == (
            "industry_dept", world["second"].id, None, "account:1")  # fmt: skip
    for state in ("draft", "returned"):
        entry = Entry.get_by_id(world["mine"][state])
        assert (entry.route, entry.department_id, entry.channel_id) == (
            "industry_dept", world["second"].id, None)  # fmt: skip
    endorsed = Entry.get_by_id(world["mine"]["endorsed"])
    assert endorsed.department_id == world["first"].id and endorsed.channel_id is not None


def test_nobody_else_moves(campaign, world):
    reassign.reassign(campaign, world["user"], "online", None, "account:1", "自行报名")
    assert Attribution.get(Attribution.user == world["stranger"]).department_id == world["first"].id
    assert Entry.get_by_id(world["theirs"]["draft"]).department_id == world["first"].id


def test_the_audit_row_keeps_every_attribution_before(campaign, world):
    reassign.reassign(campaign, world["user"], "online", None, "account:1", "自行报名")
    audit = AuditLog.get(AuditLog.action == "attribution.reassign")
    assert {a["user_id"] for a in audit.before["attributions"]} == {
        world["user"].id,
        world["twin"].id,
    }
    assert all(a["department_id"] == world["first"].id for a in audit.before["attributions"])
    assert audit.after["reason"] == "自行报名" and audit.after["department_id"] is None
    own = Attribution.get(Attribution.user == world["user"])
    assert (audit.object_type, audit.object_id, audit.actor) == (
        "attribution", str(own.id), "account:1")  # fmt: skip


def test_a_person_never_attributed_gets_an_attribution(campaign, world):
    newcomer = WechatUser.create(app="wxa", openid="o-new")
    moved = reassign.reassign(campaign, newcomer, "industry_dept", world["second"], "a", "线下")
    assert moved["entries_moved"] == []
    row = Attribution.get(Attribution.user == newcomer)
    assert (row.route, row.department_id, row.reassigned_by) == (
        "industry_dept", world["second"].id, "a")  # fmt: skip


def test_another_campaigns_attribution_and_entries_stay(campaign, world):
    past = other_campaign(campaign)
    past_department, past_channel = department(past, "往届")
    attribute(past, world["user"], past_channel)
    past_entry = entries_of(past, world["user"], past_department, past_channel, ["draft"])
    reassign.reassign(campaign, world["user"], "online", None, "a", "x")
    assert (
        Attribution.get(
            (Attribution.campaign == past) & (Attribution.user == world["user"])
        ).department_id
        == past_department.id
    )
    assert Entry.get_by_id(past_entry["draft"]).department_id == past_department.id


def test_a_reassignment_whose_audit_fails_moves_nothing(campaign, world, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(reassign, "record", broken)
    with pytest.raises(RuntimeError):
        reassign.reassign(campaign, world["user"], "online", None, "a", "x")
    assert Attribution.get(Attribution.user == world["user"]).department_id == world["first"].id
    assert Entry.get_by_id(world["mine"]["draft"]).department_id == world["first"].id
