"""Organizers revoke department access (issue 11): list and remove a department's members;
rotating its invite code (api/channels.py) may set an expiry and a use limit and revoke
every member. Each change is audited by campaign.channels.departments."""

import datetime

from flask import Blueprint, jsonify

from api.access import campaign_row
from api.errors import ApiError
from api.security import console_actor, role_required
from campaign.channels import departments as admin
from campaign.clock import iso_local
from campaign.problems import is_row_id, is_whole_number
from models import Department, utcnow

bp = Blueprint("department_access_api", __name__, url_prefix="/api/v1/org")

MAX_INVITE_DAYS = 365
MAX_INVITE_USES = 1000


@bp.get("/departments/<int:department_id>/members")
@role_required("organizer")
def list_members(department_id: int):
    department = _department_row(department_id)
    timezone = department.campaign.timezone
    return jsonify(
        items=[
            {
                "user_id": member.user.id,
                "nickname": member.user.nickname,
                "bound_at": iso_local(member.bound_at, timezone),
            }
            for member in admin.members(department)
        ]
    )


@bp.delete("/departments/<int:department_id>/members/<int:user_id>")
@role_required("organizer")
def remove_member(department_id: int, user_id: int):
    if not admin.remove_member(_department_row(department_id), user_id, console_actor()):
        raise ApiError(404, "not_found", "请求的内容不存在")
    return "", 204


def invite_options(data: dict) -> dict:
    """`revoke_members`, `expires_in_days` and `max_uses` of a rotation; 422 lists every
    problem. Absent means: keep members, no expiry, no limit."""
    problems, options = [], {}
    revoke = data.get("revoke_members", False)
    if not isinstance(revoke, bool):
        problems.append(admin.problem("revoke_members", "invalid_type"))
    options["revoke_members"] = revoke is True
    days = data.get("expires_in_days")
    if days is not None:
        if not is_whole_number(days) or not 1 <= days <= MAX_INVITE_DAYS:
            problems.append(admin.problem("expires_in_days", "invalid_type", max=MAX_INVITE_DAYS))
        else:
            options["expires_at"] = utcnow() + datetime.timedelta(days=days)
    uses = data.get("max_uses")
    if uses is not None:
        if not is_row_id(uses) or uses > MAX_INVITE_USES:
            problems.append(admin.problem("max_uses", "invalid_type", max=MAX_INVITE_USES))
        else:
            options["max_uses"] = uses
    if problems:
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", problems)
    return options


def _department_row(department_id: int) -> Department:
    return campaign_row(Department, department_id)
