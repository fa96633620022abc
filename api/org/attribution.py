"""Organizer endpoints for a person's attribution: see it, and move it (logged, DESIGN §5.1)."""

from flask import Blueprint, jsonify

from api.access import open_campaign
from api.payload import json_object, text_field
from api.security import console_actor, role_required
from campaign.channels import departments as admin
from campaign.channels.reassign import reassign, target
from campaign.clock import iso_local
from campaign.problems import NotFound, is_row_id, refuse_if
from models import Attribution, Campaign, WechatUser

bp = Blueprint("org_attribution_api", __name__, url_prefix="/api/v1/org")


@bp.get("/users/<int:user_id>/attribution")
@role_required("organizer")
def show_attribution(user_id: int):
    campaign = open_campaign()
    user = _user(user_id)
    row = Attribution.get_or_none((Attribution.campaign == campaign) & (Attribution.user == user))
    return jsonify(attribution_payload(user, row, campaign))


@bp.put("/users/<int:user_id>/attribution")
@role_required("organizer")
def reassign_attribution(user_id: int):
    """Move a person (and their entries not yet judged) to another department or route."""
    campaign = open_campaign()
    user = _user(user_id)
    data = json_object()
    problems = []
    reason = text_field(data, "reason", problems, required=True)
    route = data.get("route")
    if route is not None and not isinstance(route, str):
        problems.append(admin.problem("route", "invalid_type"))
    department_id = data.get("department_id")
    if department_id is not None and not is_row_id(department_id):
        problems.append(admin.problem("department_id", "invalid_type"))
    refuse_if(problems)
    route, department = target(campaign, department_id, route)
    return jsonify(reassign(campaign, user, route, department, console_actor(), reason))


def attribution_payload(user: WechatUser, row: Attribution | None, campaign: Campaign) -> dict:
    return {
        "user_id": user.id,
        "route": row.route if row else None,
        "department_id": row.department_id if row else None,
        "channel_id": row.channel_id if row else None,
        "reassigned_by": row.reassigned_by if row else None,
        "since": iso_local(row.created_at, campaign.timezone) if row else None,
    }


def _user(user_id: int) -> WechatUser:
    user = WechatUser.get_or_none(WechatUser.id == user_id)
    if user is None:
        raise NotFound()
    return user
