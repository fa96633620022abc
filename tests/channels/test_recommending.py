"""Departments' side as plain functions: binding by invite code, what a department may see,
and its verdicts (推荐, 退回) moving entries through the status machine."""

import pytest

from campaign.channels import recommending
from campaign.entries import status
from models import AuditLog, Department, DepartmentMember, Entry, StatusChange, WechatUser
from tests.factories import entry_row


@pytest.fixture
def department(campaign):
    return Department.create(campaign=campaign, name="某县委组织部", route="org_dept",
                             invite_code="invite-1")  # fmt: skip


def test_binding_makes_a_member_once_with_one_audit_row(department):
    user = WechatUser.create(app="wxa", openid="o-1")
    assert recommending.bind(user, "invite-1").id == department.id
    assert recommending.bind(user, "invite-1").id == department.id  # idempotent
    assert DepartmentMember.select().where(DepartmentMember.user == user).count() == 1
    audit = AuditLog.get(AuditLog.action == "department.bind")
    assert audit.after == {"user": user.id} and audit.object_id == str(department.id)
    assert AuditLog.select().where(AuditLog.action == "department.bind").count() == 1


def test_unknown_codes_and_inactive_departments_refuse_binding(department):
    user = WechatUser.create(app="wxa", openid="o-1")
    with pytest.raises(recommending.BindingRefused):
        recommending.bind(user, "invite-2")
    Department.update(active=False).where(Department.id == department.id).execute()
    with pytest.raises(recommending.BindingRefused):
        recommending.bind(user, "invite-1")
    assert DepartmentMember.select().count() == 0


def test_a_member_is_a_member_from_either_app(department, campaign):
    other = Department.create(campaign=campaign, name="停用的", route="org_dept", invite_code="x")
    wxa = WechatUser.create(app="wxa", openid="o-wxa", unionid="u-1")
    mp = WechatUser.create(app="mp", openid="o-mp", unionid="u-1")
    recommending.bind(mp, "invite-1")
    recommending.bind(wxa, "x")
    Department.update(active=False).where(Department.id == other.id).execute()
    assert [d.id for d in recommending.departments_of(wxa)] == [department.id]
    assert recommending.departments_of(WechatUser.create(app="wxa", openid="o-no")) == []


def test_a_department_sees_only_its_submitted_entries_with_text_let_through(department, campaign):
    other = Department.create(campaign=campaign, name="乙", route="org_dept", invite_code="y")
    seen = {
        (state, check): entry_row(
            campaign, f"o-{state}-{check}", status=state, content_check=check,
            department=department,
        ).id
        for state in ("draft", "submitted", "endorsed", "returned", "withdrawn")
        for check in ("pass", "review", "cleared", "risky", "pending", "blocked")
    }  # fmt: skip
    entry_row(campaign, "o-other", status="submitted", content_check="pass", department=other)
    visible = {e.id for e in recommending.visible_entries(department)}
    expected = {
        entry_id
        for (state, check), entry_id in seen.items()
        if state not in ("draft", "withdrawn") and check in ("pass", "review", "cleared")
    }
    assert visible == expected and len(expected) == 9


def test_endorse_and_send_back_move_the_entry_with_the_comment(department, campaign):
    entry = entry_row(campaign, "o-1", status="submitted", department=department)
    endorsed = recommending.endorse(entry, "user:5", "推荐")
    assert endorsed.status == Entry.get_by_id(entry.id).status == status.ENDORSED
    returned = recommending.send_back(endorsed, "user:5", "请补充成效数据")
    assert returned.status == status.RETURNED
    notes = [
        (c.to_status, c.note, c.actor) for c in StatusChange.select().order_by(StatusChange.id)
    ]
    assert notes == [("endorsed", "推荐", "user:5"), ("returned", "请补充成效数据", "user:5")]


@pytest.mark.parametrize("current", ["draft", "withdrawn", "returned", "awarded"])
def test_only_submitted_or_endorsed_entries_can_be_judged(department, campaign, current):
    entry = entry_row(campaign, "o-1", status=current, department=department)
    with pytest.raises(status.IllegalTransition):
        recommending.endorse(entry, "user:5")
    if current != "returned":
        with pytest.raises(status.IllegalTransition):
            recommending.send_back(entry, "user:5", "退回")
    assert Entry.get_by_id(entry.id).status == current
    assert StatusChange.select().count() == 0
