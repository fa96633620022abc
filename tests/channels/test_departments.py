"""Organizers' side of departments and channels, as plain functions: field checks, the parent
tree, invite codes, the route lock, and which codes `/q/` answers."""

import pytest

from campaign.attribution import attribute
from campaign.channels import departments
from campaign.channels.codes import CODE_ALPHABET
from models import AuditLog, Campaign, Channel, Department, Touch, WechatUser
from tests.factories import other_campaign

FIELDS = {"name": "某县委组织部", "route": "org_dept", "region": "福州市",
          "contact_name": "李明", "contact_phone": "0591-87808286"}  # fmt: skip


def found(problems):
    return {(p["field"], p["code"]) for p in problems}


def make(campaign, name="某县委组织部", route="org_dept", parent_id=None, actor="org:1"):
    return departments.create_department(
        campaign, {**FIELDS, "name": name, "route": route}, actor, parent_id
    )


# --- checks ---------------------------------------------------------------------------------


def test_clean_fields_are_squeezed_and_the_phone_normalized(campaign):
    values, problems = departments.check_fields(
        campaign, {**FIELDS, "name": "  某县  委组织部 ", "contact_phone": "（0591）87808286"}
    )
    assert problems == []
    assert values["name"] == "某县 委组织部"
    assert values["contact_phone"] == "0591-87808286"


def test_every_field_problem_at_once_in_the_departments_words(campaign):
    values, problems = departments.check_fields(
        campaign,
        {"name": "", "route": "online", "region": "火星", "contact_name": 7,
         "contact_phone": "123"},
    )  # fmt: skip
    assert found(problems) == {
        ("name", "required"),
        ("route", "invalid_route"),
        ("region", "invalid_choice"),
        ("contact_name", "invalid_type"),
        ("contact_phone", "invalid_phone"),
    }
    route = next(p for p in problems if p["field"] == "route")
    assert route["message"] == departments.MESSAGES["invalid_route"]


def test_long_values_and_missing_required_ones(campaign):
    _, problems = departments.check_fields(
        campaign, {"name": "名" * 101, "contact_name": "王" * 31, "region": None}
    )
    assert found(problems) == {
        ("name", "too_long"),
        ("contact_name", "too_long"),
        ("route", "required"),
    }


def test_a_partial_check_looks_only_at_what_was_sent(campaign):
    values, problems = departments.check_fields(campaign, {"region": "厦门市"}, partial=True)
    assert (values, problems) == ({"region": "厦门市"}, [])


def test_the_online_route_has_no_departments(campaign):
    routes = departments.recommendation_routes(campaign)
    assert set(routes) == {"org_dept", "industry_dept", "party_school"}
    assert routes["org_dept"] == "组织部门推荐"


def test_a_parent_must_exist_in_the_campaign_and_not_be_below(campaign):
    top, _ = make(campaign, "省委组织部")
    middle, _ = make(campaign, "市委组织部", parent_id=top.id)
    bottom, _ = make(campaign, "县委组织部", parent_id=middle.id)
    stranger, _ = make(other_campaign(campaign), "外省组织部")
    assert departments.check_parent(campaign, None, bottom) == []
    assert departments.check_parent(campaign, top.id, None) == []
    assert found(departments.check_parent(campaign, "1", None)) == {("parent_id", "invalid_type")}
    assert found(departments.check_parent(campaign, True, None)) == {("parent_id", "invalid_type")}
    assert found(departments.check_parent(campaign, stranger.id, None)) == {
        ("parent_id", "unknown_parent")
    }
    assert found(departments.check_parent(campaign, bottom.id, top)) == {
        ("parent_id", "parent_cycle")
    }
    assert found(departments.check_parent(campaign, top.id, top)) == {("parent_id", "parent_cycle")}
    assert departments.ancestors(bottom) == [bottom.id, middle.id, top.id]


def test_ancestors_stop_on_a_cycle_already_in_the_data(campaign):
    a, _ = make(campaign, "甲")
    b, _ = make(campaign, "乙", parent_id=a.id)
    Department.update(parent=b).where(Department.id == a.id).execute()
    assert departments.ancestors(Department.get_by_id(a.id)) == [a.id, b.id]


def test_a_name_is_taken_within_one_campaign_only(campaign):
    department, _ = make(campaign, "甲")
    assert departments.name_taken(campaign, "甲")
    assert not departments.name_taken(campaign, "甲", except_id=department.id)
    assert not departments.name_taken(campaign, "乙")
    assert not departments.name_taken(other_campaign(campaign), "甲")


# --- create and change ------------------------------------------------------------------------


def test_a_new_department_has_an_invite_code_and_a_first_channel(campaign):
    department, channel = make(campaign)
    assert len(department.invite_code) == departments.INVITE_LENGTH
    assert set(department.invite_code) <= set(CODE_ALPHABET)
    assert (channel.department_id, channel.route, channel.label) == (
        department.id,
        "org_dept",
        "某县委组织部",
    )
    audit = AuditLog.get(AuditLog.action == "department.create")
    assert audit.after["name"] == "某县委组织部" and audit.after["active"] is True
    assert make(campaign, "乙")[0].invite_code != department.invite_code


def test_a_department_whose_audit_fails_leaves_nothing(campaign, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(departments, "record", broken)
    with pytest.raises(RuntimeError):
        make(campaign)
    assert Department.select().count() == 0 and Channel.select().count() == 0


def test_an_untouched_department_may_change_route_and_its_channels_follow(campaign):
    department, channel = make(campaign)
    changed = departments.update_department(department, {"route": "party_school"}, "org:2")
    assert changed.route == "party_school"
    assert Channel.get_by_id(channel.id).route == "party_school"
    audit = AuditLog.get(AuditLog.action == "department.update")
    assert (audit.before["route"], audit.after["route"], audit.actor) == (
        "org_dept",
        "party_school",
        "org:2",
    )


@pytest.mark.parametrize("how", ["attribution", "touch"])
def test_the_route_is_locked_once_someone_came_through(campaign, how):
    department, channel = make(campaign)
    if how == "attribution":
        attribute(campaign, WechatUser.create(app="wxa", openid="o-1"), channel)
    else:
        Touch.create(campaign=campaign, channel=channel, kind="link_scan", visitor="v1")
    assert departments.route_in_use(department)
    with pytest.raises(departments.RouteLocked) as caught:
        departments.update_department(department, {"route": "party_school", "name": "新名"}, "o")
    assert (caught.value.code, caught.value.status) == ("route_locked", 409)
    stored = Department.get_by_id(department.id)
    assert (stored.route, stored.name) == ("org_dept", "某县委组织部")
    assert Channel.get_by_id(channel.id).route == "org_dept"
    # the same route, or anything else, is still fine
    renamed = departments.update_department(department, {"route": "org_dept", "name": "新名"}, "o")
    assert renamed.name == "新名"


def test_parent_and_active_are_changed_by_name(campaign):
    top, _ = make(campaign, "上级")
    department, _ = make(campaign, "下级")
    changed = departments.update_department(department, {"parent_id": top.id, "active": False}, "o")
    assert (changed.parent_id, changed.active) == (top.id, False)


def test_rotating_the_invite_replaces_the_code_and_keeps_members(campaign):
    from campaign.channels.recommending import BindingRefused, bind, departments_of

    department, _ = make(campaign)
    old = department.invite_code
    member = WechatUser.create(app="wxa", openid="o-member")
    bind(member, old)
    rotated = departments.rotate_invite(department, "org:1")
    assert rotated.invite_code != old
    assert Department.get_by_id(department.id).invite_code == rotated.invite_code
    assert [d.id for d in departments_of(member)] == [department.id]
    with pytest.raises(BindingRefused):
        bind(WechatUser.create(app="wxa", openid="o-late"), old)
    rotation = AuditLog.get(AuditLog.action == "department.invite_rotated").after
    assert rotation == {"expires_at": None, "max_uses": None, "revoked_members": []}


def test_channels_of_a_department_and_of_the_online_route(campaign):
    department, first = make(campaign)
    poster = departments.create_channel(campaign, department, "海报" * 60, "org:1")
    online = departments.create_channel(campaign, None, "官网", "org:1")
    assert (poster.route, poster.department_id) == ("org_dept", department.id)
    assert len(poster.label) == departments.MAX_LENGTH["label"]
    assert (online.route, online.department_id) == ("online", None)
    assert len({first.code, poster.code, online.code}) == 3
    assert AuditLog.select().where(AuditLog.action == "channel.create").count() == 2
    off = departments.update_channel(online, {"active": False, "label": "旧官网"}, "org:1")
    assert (off.active, off.label) == (False, "旧官网")
    audit = AuditLog.get(AuditLog.action == "channel.update")
    assert (audit.before["active"], audit.after["active"]) == (True, False)


def test_live_codes_are_active_channels_of_active_departments_of_the_current_campaign(campaign):
    department, dept_channel = make(campaign)
    online = departments.create_channel(campaign, None, "官网", "o")
    off = departments.create_channel(campaign, None, "停用", "o")
    departments.update_channel(off, {"active": False}, "o")
    closed, closed_channel = make(campaign, "停用单位")
    departments.update_department(closed, {"active": False}, "o")
    past = other_campaign(campaign)
    _, past_channel = make(past, "往届单位")
    assert set(departments.live_codes()) == {dept_channel.code, online.code}
    assert departments.is_live(online.code)
    for code in (off.code, closed_channel.code, past_channel.code, "nosuchcode"):
        assert not departments.is_live(code)
    Campaign.update(is_current=False).where(Campaign.id == campaign.id).execute()
    assert departments.live_codes() == []
