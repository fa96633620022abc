"""Organizer endpoints of selection: staged decisions per entry, quota use, and applying
them all in one transaction (messages go through the outbox)."""

from flask import Blueprint, jsonify

from api.access import open_campaign
from api.org.board import _entry
from api.payload import json_object
from api.security import console_actor, role_required
from campaign.review import decisions
from campaign.review.board import quota_use
from models import Decision, Entry
from tasks import review as jobs

bp = Blueprint("org_decisions_api", __name__, url_prefix="/api/v1/org/review")


@bp.get("/decisions")
@role_required("organizer")
def list_decisions():
    campaign = open_campaign()
    rows = Decision.select().join(Entry).where(Entry.campaign == campaign).order_by(Decision.entry)
    return jsonify(items=[decisions.decision_view(d) for d in rows], quotas=quota_use(campaign))


@bp.put("/entries/<int:entry_id>/decision")
@role_required("organizer")
def stage_decision(entry_id: int):
    data = json_object()
    decision = decisions.stage(
        _entry(entry_id), data.get("outcome"), data.get("reason", ""), console_actor()
    )
    return jsonify(decisions.decision_view(decision))


@bp.delete("/entries/<int:entry_id>/decision")
@role_required("organizer")
def unstage_decision(entry_id: int):
    decisions.unstage(_entry(entry_id), console_actor())
    return "", 204


@bp.post("/decisions/apply")
@role_required("organizer")
def apply_decisions():
    result = decisions.apply(open_campaign(), console_actor())
    jobs.start_notices(result["notices"])
    return jsonify(result)
