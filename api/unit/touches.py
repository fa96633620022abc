"""`POST /api/v1/touches`: the mini-program says how it was opened (code scene or plain link).

The first channel touch fixes the user's route and department at once (so an entry created
a second later is already attributed); the touch row itself is written in a batch.
"""

from flask import Blueprint, jsonify

from api.payload import json_object
from api.security import current_user, login_required
from campaign.attribution import attribute, attribution_of
from campaign.channels.codes import code_from_link, code_from_scene
from campaign.channels.touches import touch_record
from campaign.definition import current_campaign
from models import Channel
from tasks.touches import record_touch

bp = Blueprint("touches_api", __name__, url_prefix="/api/v1")


@bp.post("/touches")
@login_required
def report_touch():
    data = json_object()
    code = code_from_scene(data.get("scene")) or code_from_link(data.get("q"))
    channel = Channel.get_or_none((Channel.code == code) & Channel.active) if code else None
    user = current_user()
    record_touch(touch_record("wxa_open", code=code, app=user.app, openid=user.openid))
    campaign = channel.campaign if channel else current_campaign()
    if channel is not None:
        attribution = attribute(campaign, user, channel)
    else:
        attribution = attribution_of(campaign, user) if campaign else None
    return jsonify(
        channel=channel.code if channel else None,
        route=attribution.route if attribution else None,
        department=attribution.department.name if attribution and attribution.department else None,
    )
