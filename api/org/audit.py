"""`GET /api/v1/org/audit`: the campaign's audit log for organizers, filtered and paged."""

from flask import Blueprint, jsonify, request

from api.access import open_campaign
from api.errors import ApiError
from api.security import role_required
from campaign import audit_log
from campaign.clock import iso_local

bp = Blueprint("org_audit_api", __name__, url_prefix="/api/v1/org")


@bp.get("/audit")
@role_required("organizer")
def audit():
    campaign = open_campaign()
    args = {
        name: request.args.get(name, "")[:200]
        for name in (*audit_log.TEXT_FILTERS, "since", "until")
    }
    try:
        query = audit_log.rows(campaign, args)
    except audit_log.FiltersInvalid as invalid:
        raise ApiError(422, "validation_failed", "筛选条件不正确", invalid.problems) from None
    page = min(max(request.args.get("page", 1, type=int), 1), 100_000)
    size = min(max(request.args.get("size", 50, type=int), 1), audit_log.PAGE_MAX)
    total = query.count()
    items = [
        {
            "id": row.id,
            "at": iso_local(row.at, campaign.timezone),
            "actor": row.actor,
            "action": row.action,
            "object_type": row.object_type,
            "object_id": row.object_id,
            "before": row.before,
            "after": row.after,
            "request_id": row.request_id,
        }
        for row in query.paginate(page, size)
    ]
    return jsonify(total=total, page=page, size=size, items=items)
