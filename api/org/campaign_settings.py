"""`GET/PATCH /api/v1/org/campaign/settings`: the campaign's windows, stage, quotas and
criterion weights, changed through the API (guarded, audited: campaign/settings_admin.py)."""

from flask import Blueprint, jsonify

from api.access import open_campaign
from api.errors import ApiError
from api.payload import json_object
from api.security import console_actor, role_required
from campaign import settings_admin

bp = Blueprint("org_campaign_settings_api", __name__, url_prefix="/api/v1/org")


@bp.get("/campaign/settings")
@role_required("organizer")
def show():
    return jsonify(settings_admin.view(open_campaign()))


@bp.patch("/campaign/settings")
@role_required("organizer")
def change():
    """Any subset; `{"force": true, "reason": "…"}` lets a guarded change through."""
    campaign = open_campaign()
    try:
        campaign = settings_admin.change(campaign, json_object(), console_actor())
    except settings_admin.SettingsInvalid as invalid:
        raise ApiError(422, "validation_failed", "设置未通过校验", invalid.problems) from None
    except settings_admin.SettingsRefused as refused:
        raise ApiError(409, refused.code, refused.message) from None
    return jsonify(settings_admin.view(campaign))
