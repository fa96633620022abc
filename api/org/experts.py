"""Organizer endpoints over experts: invite, list, change (domains, organization, cap)."""

from flask import Blueprint, jsonify

from api.access import open_campaign
from api.errors import ApiError
from api.payload import json_object
from api.security import console_actor, role_required
from campaign.review import experts
from models import ExpertProfile

bp = Blueprint("org_experts_api", __name__, url_prefix="/api/v1/org")


@bp.get("/experts")
@role_required("organizer")
def list_experts():
    campaign = open_campaign()
    rows = (
        ExpertProfile.select()
        .where(ExpertProfile.campaign == campaign)
        .order_by(ExpertProfile.account)
    )
    return jsonify(items=[experts.profile_view(p) for p in rows])


@bp.post("/experts")
@role_required("organizer")
def invite_expert():
    profile, password = experts.invite(open_campaign(), json_object(), console_actor())
    return jsonify({**experts.profile_view(profile), "initial_password": password}), 201


def _profile(account_id: int) -> ExpertProfile:
    profile = ExpertProfile.get_or_none(
        (ExpertProfile.account == account_id) & (ExpertProfile.campaign == open_campaign())
    )
    if profile is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return profile


@bp.get("/experts/<int:expert_id>")
@role_required("organizer")
def get_expert(expert_id: int):
    return jsonify(experts.profile_view(_profile(expert_id)))


@bp.patch("/experts/<int:expert_id>")
@role_required("organizer")
def update_expert(expert_id: int):
    profile = experts.update(_profile(expert_id), json_object(), console_actor())
    return jsonify(experts.profile_view(profile))
