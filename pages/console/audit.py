"""The campaign's audit log, newest first, filterable by actor, action and object: the same
reading as `GET /api/v1/org/audit` (`campaign.audit_log.rows`)."""

from flask import Blueprint, request

from api.errors import ApiError
from campaign import audit_log
from pages.console.layout import account, campaign_or_404, page_for, paginate, render

bp = Blueprint("audit", __name__)


@bp.get("/audit")
@page_for("organizer")
def index():
    wanted = {
        name: request.args.get(name, "").strip()[:64] for name in ("actor", "action", "object")
    }
    kind, _, object_id = wanted["object"].partition(":")
    action = wanted["action"]
    filters = {
        "actor": wanted["actor"],
        # the page's action box is a prefix ("notice" or "notice."), as it always said
        "action": action if not action or action.endswith(".") or "." in action else action + ".",
        "object_type": kind,
        "object_id": object_id,
    }
    try:
        query = audit_log.rows(campaign_or_404(), filters, with_global=account().role == "admin")
    except audit_log.FiltersInvalid as invalid:
        raise ApiError(422, "validation_failed", "筛选条件不正确", invalid.problems) from None
    return render("console/audit.html", pager=paginate(query, 50), wanted=wanted)
