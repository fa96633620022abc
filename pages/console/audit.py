"""The audit log, newest first, filterable by actor, action and object."""

from flask import Blueprint, request

from models import AuditLog
from pages.console.layout import page_for, paginate, render

bp = Blueprint("audit", __name__)


@bp.get("/audit")
@page_for("organizer")
def index():
    query = AuditLog.select()
    wanted = {
        name: request.args.get(name, "").strip()[:64] for name in ("actor", "action", "object")
    }
    if wanted["actor"]:
        query = query.where(AuditLog.actor == wanted["actor"])
    if wanted["action"]:
        query = query.where(AuditLog.action.startswith(wanted["action"]))
    if wanted["object"]:
        kind, _, object_id = wanted["object"].partition(":")
        query = query.where(AuditLog.object_type == kind)
        if object_id:
            query = query.where(AuditLog.object_id == object_id)
    return render(
        "console/audit.html", pager=paginate(query.order_by(AuditLog.id.desc()), 50), wanted=wanted
    )
