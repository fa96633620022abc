"""Organizer endpoints for the automatic reminders: see them, turn them on or off, tune them."""

from flask import Blueprint, jsonify

from api.access import open_campaign
from api.payload import json_object
from api.security import console_actor, role_required
from campaign.notices import reminders

bp = Blueprint("org_reminders_api", __name__, url_prefix="/api/v1/org")


@bp.get("/reminders")
@role_required("organizer")
def show_reminders():
    return jsonify(reminders.reminder_settings(open_campaign()))


@bp.put("/reminders")
@role_required("organizer")
def configure_reminders():
    """Turn reminders on or off and tune them: any subset of `GET /reminders`' shape."""
    configured = reminders.configure(open_campaign(), json_object(), console_actor())
    return jsonify(configured)
