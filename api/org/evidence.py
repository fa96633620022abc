"""Organizers and evidence: every attachment of an entry (signed links), the queue of items
no machine checks, and the pass/block verdict on them (audited)."""

from flask import Blueprint, jsonify

from api.access import open_campaign
from api.errors import ApiError
from api.evidence_view import linked_payload
from api.org.entries import _entry
from api.payload import json_object
from api.security import console_actor, role_required
from campaign.entries import evidence_access
from models import Attachment, Entry

bp = Blueprint("org_evidence_api", __name__, url_prefix="/api/v1/org")


@bp.get("/entries/<int:entry_id>/attachments")
@role_required("organizer")
def attachments(entry_id: int):
    entry = _entry(entry_id)
    rows = evidence_access.for_organizer(entry)
    return jsonify(items=[linked_payload(row, entry.campaign.timezone) for row in rows])


@bp.get("/evidence/pending")
@role_required("organizer")
def pending():
    """Evidence waiting for a decision (`manual`, `timeout`), with its entry."""
    campaign = open_campaign()
    items = []
    for row in evidence_access.awaiting_decision(campaign):
        items.append({**linked_payload(row, campaign.timezone), "entry": row.entry_id})
    return jsonify(items=items)


@bp.post("/attachments/<int:attachment_id>/decision")
@role_required("organizer")
def decide(attachment_id: int):
    """`{"decision": "pass" | "block", "reason": "…"}`."""
    attachment = (
        Attachment.select()
        .join(Entry)
        .where((Attachment.id == attachment_id) & (Entry.campaign == open_campaign()))
        .first()
    )
    if attachment is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    data = json_object()
    try:
        decided = evidence_access.decide(
            attachment, data.get("decision"), data.get("reason"), console_actor()
        )
    except evidence_access.DecisionInvalid as invalid:
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", invalid.problems) from None
    return jsonify(linked_payload(decided, attachment.entry.campaign.timezone))
