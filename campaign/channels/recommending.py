"""Recommending departments: binding their WeChat users, and their verdict on entries.

A department user sees only the entries attributed to their department, and only once
WeChat's content check let the text through (`pass` or `review`): risky text is held back
for the organizer (DESIGN §6 "Content security").
"""

from peewee import IntegrityError

from campaign.audit import record
from campaign.channels import endorsements
from campaign.entries import status
from campaign.users import same_person
from models import Department, DepartmentMember, Entry, WechatUser, db, utcnow

VISIBLE_CHECKS = ("pass", "review", "cleared")


class BindingRefused(Exception):
    """The invite code is unknown or the department is inactive."""


class InviteSpent(BindingRefused):
    """The invite code exists but has expired or been used up (issue 11)."""


def bind(user: WechatUser, invite_code: str) -> Department:
    """Make `user` a member of the department whose invite code this is (idempotent).

    A new member spends one use of the code; the use is taken by one conditional UPDATE,
    so parallel bindings cannot exceed the code's limit, nor bind after its expiry."""
    department = Department.get_or_none((Department.invite_code == invite_code) & Department.active)
    if department is None:
        raise BindingRefused(invite_code)
    member = DepartmentMember.select().where(
        (DepartmentMember.department == department) & (DepartmentMember.user == user)
    )
    if member.exists():
        return department
    try:
        with db.atomic():
            if not _spend_invite(department):
                raise InviteSpent(invite_code)
            DepartmentMember.create(department=department, user=user)
            record(f"user:{user.id}", "department.bind", department, None, {"user": user.id})
    except IntegrityError:
        pass  # a parallel request bound this user (its use was rolled back with this one)
    return department


def _spend_invite(department: Department) -> bool:
    now = utcnow()
    return bool(
        Department.update(invite_uses=Department.invite_uses + 1)
        .where(
            (Department.id == department.id)
            & (Department.invite_code == department.invite_code)
            & (Department.invite_expires_at.is_null() | (Department.invite_expires_at > now))
            & (
                Department.invite_max_uses.is_null()
                | (Department.invite_uses < Department.invite_max_uses)
            )
        )
        .execute()
    )


def departments_of(user: WechatUser) -> list[Department]:
    return list(
        Department.select()
        .join(DepartmentMember)
        .where(DepartmentMember.user.in_(same_person(user)) & Department.active)
        .distinct()
    )


def visible_entries(department: Department):
    """The department's entries it may see: submitted onwards, content check passed."""
    return Entry.select().where(
        (Entry.department == department)
        & (Entry.status.not_in((status.DRAFT, status.WITHDRAWN)))
        & (Entry.content_check.in_(VISIBLE_CHECKS))
    )


def endorse(entry: Entry, actor: str, comment: str = "") -> Entry:
    """推荐: the department vouches for a submitted entry (what it vouched for is kept)."""
    with db.atomic():
        entry = status.move(entry, status.ENDORSED, actor, comment)
        endorsements.remember(entry, actor)
    return entry


def send_back(entry: Entry, actor: str, comment: str) -> Entry:
    """退回: back to the unit with the reason, to fix and resubmit."""
    return status.move(entry, status.RETURNED, actor, comment)
