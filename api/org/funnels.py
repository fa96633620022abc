"""Organizers' funnels (nested under `/api/v1/org`): overview, departments, channels, days,
and the Excel export. Reading a funnel while touches wait to be counted asks for a roll-up,
and says how many were waiting (`pending_touches`), so nobody mistakes a lag for a loss."""

import re

from flask import Blueprint, jsonify, request

from api.access import open_campaign
from api.errors import ApiError
from api.files import document
from api.security import role_required
from campaign.channels import funnel_views as views
from campaign.channels.funnel_rollup import pending
from campaign.channels.funnels import LEVELS, daily
from tasks.funnels import request_roll_up

bp = Blueprint("funnels", __name__, url_prefix="/api/v1/org/funnel")

ROW_ID = re.compile(r"[0-9]{1,10}")


@bp.get("")
@role_required("organizer")
def overview():
    return jsonify(**views.overview(open_campaign()), pending_touches=fresh())


@bp.get("/departments")
@role_required("organizer")
def departments():
    """Every department's funnel; `sort` by a step (or `name`), `order` asc or desc."""
    sort = request.args.get("sort", "scans")
    order = request.args.get("order", "desc")
    if sort not in views.SORTABLE or order not in ("asc", "desc"):
        raise ApiError(
            422,
            "invalid_sort",
            "排序方式无效",
            [{"field": "sort", "code": "invalid_choice", "allowed": list(views.SORTABLE)}],
        )
    rows = views.department_rows(
        open_campaign(), request.args.get("route") or None, sort, order == "desc"
    )
    return jsonify(items=rows, sort=sort, order=order, pending_touches=fresh())


@bp.get("/channels")
@role_required("organizer")
def channels():
    department_id = query_id("department_id")
    rows = views.channel_rows(open_campaign(), department_id, request.args.get("route") or None)
    return jsonify(items=rows, pending_touches=fresh())


@bp.get("/daily")
@role_required("organizer")
def days():
    """A scope's funnel by local day: `level` campaign|route|department|channel and its `key`."""
    level = request.args.get("level", "campaign")
    key = request.args.get("key", "")
    if level not in LEVELS or (level in ("department", "channel") and not key.isdigit()):
        raise ApiError(
            422, "invalid_scope", "统计范围无效", [{"field": "level", "code": "invalid"}]
        )
    if level == "route" and not key:
        raise ApiError(422, "invalid_scope", "统计范围无效", [{"field": "key", "code": "required"}])
    scope = int(key) if level in ("department", "channel") else (key or None)
    items = daily(open_campaign(), level, scope)
    return jsonify(level=level, key=scope, items=items, pending_touches=fresh())


@bp.get("/export.xlsx")
@role_required("organizer")
def export():
    content = views.workbook(open_campaign())
    return document(content, "报名漏斗.xlsx", "funnel.xlsx")


def query_id(name: str) -> int | None:
    """A row id from the query string, or None if absent or not one (never an overflow)."""
    value = request.args.get(name, "")
    if not ROW_ID.fullmatch(value) or not 0 < int(value) < 2**31:
        return None
    return int(value)


def fresh() -> int:
    """Touches not yet counted; if any, a roll-up is requested for the next read."""
    waiting = pending()
    if waiting:
        request_roll_up()
    return waiting
