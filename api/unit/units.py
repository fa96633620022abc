"""`GET/PUT /api/v1/me/unit`: the caller's unit profile in the current campaign."""

from flask import Blueprint, jsonify

from api.access import open_campaign, own_unit
from api.errors import ApiError
from api.payload import json_object
from api.security import current_user, login_required
from campaign.pii import mask_phone
from campaign.units import FIELDS, save_unit

bp = Blueprint("units_api", __name__, url_prefix="/api/v1")


@bp.get("/me/unit")
@login_required
def show_unit():
    unit = own_unit(open_campaign())
    if unit is None:
        raise ApiError(404, "unit_not_registered", "尚未登记单位信息")
    return jsonify(unit_payload(unit))


@bp.put("/me/unit")
@login_required
def put_unit():
    """Register or update the unit; the phone defaults to the one bound from WeChat."""
    campaign = open_campaign()
    data = json_object()
    user = current_user()
    if not data.get("contact_phone") and user.phone:
        data["contact_phone"] = user.phone
    unit = own_unit(campaign)
    created = unit is None
    unit = save_unit(campaign, user, unit, data)
    return jsonify(unit_payload(unit)), 201 if created else 200


def unit_payload(unit) -> dict:
    payload = {name: getattr(unit, name) for name in FIELDS}
    payload["contact_phone_masked"] = mask_phone(unit.contact_phone)
    payload["id"] = unit.id
    return payload
