"""A department's look at one of its entries: its evidence (signed, expiring links) and
what changed since the department endorsed it."""

from flask import Blueprint, jsonify

from api.dept.department import _visible_entry
from api.evidence_view import linked_payload
from api.security import login_required
from campaign.channels import endorsements
from campaign.clock import iso_local
from campaign.entries import evidence_access

bp = Blueprint("dept_entries_api", __name__, url_prefix="/api/v1/dept")


@bp.get("/entries/<int:entry_id>/attachments")
@login_required
def attachments(entry_id: int):
    entry = _visible_entry(entry_id)
    rows = evidence_access.for_department(entry)
    return jsonify(items=[linked_payload(row, entry.campaign.timezone) for row in rows])


@bp.get("/entries/<int:entry_id>/changes")
@login_required
def changes(entry_id: int):
    """The entry against the version the department last endorsed (empty if never)."""
    entry = _visible_entry(entry_id)
    found = endorsements.changes(entry)
    if found is None:
        return jsonify(endorsed_at=None, fields=[], attachments=None)
    found["endorsed_at"] = iso_local(found["endorsed_at"], entry.campaign.timezone)
    found.pop("endorsed_by")
    return jsonify(found)
