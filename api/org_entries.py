"""Organizer endpoints over entries and units: lists, flagged content, duplicates, merges,
late codes (DESIGN §3 "Organizer")."""

import datetime

from flask import Blueprint, jsonify, request

from api.access import open_campaign
from api.entries import entry_payload
from api.errors import ApiError
from api.payload import json_object
from api.security import console_actor, role_required
from campaign import review_gate
from campaign.problems import is_row_id, is_whole_number
from models import Department, DuplicatePair, Entry, Unit

bp = Blueprint("org_entries_api", __name__, url_prefix="/api/v1/org")


def _row_id(raw: str) -> int:
    """A filter that can only match a row id: anything else (10**30 too) is a 422 naming
    the filter, never a database overflow nor a silently dropped filter."""
    value = int(raw) if raw.strip().isdigit() and len(raw) < 12 else 0
    if not is_row_id(value):
        raise ApiError(
            422,
            "validation_failed",
            "筛选条件无效",
            [{"field": "department", "code": "invalid_id", "message": "编号无效"}],
        )
    return value


FILTERS = {
    "status": str,
    "route": str,
    "department": _row_id,
    "content_check": str,
    "domain": str,
    "track": str,
}
PAGE_MAX = 200


@bp.get("/entries")
@role_required("organizer")
def list_entries():
    """Entries of the current campaign, filtered by any of FILTERS, newest first, paged."""
    query = Entry.select().where(Entry.campaign == open_campaign())
    for name, kind in FILTERS.items():
        value = request.args.get(name, type=kind)
        if value:
            query = query.where(getattr(Entry, name) == value)
    if request.args.get("duplicates") == "1":
        query = query.where(Entry.duplicate_group.is_null(False))
    page = min(max(request.args.get("page", 1, type=int), 1), 100_000)
    size = min(max(request.args.get("size", 50, type=int), 1), PAGE_MAX)
    total = query.count()
    rows = query.order_by(Entry.id.desc()).paginate(page, size)
    return jsonify(total=total, page=page, size=size, items=[entry_payload(e) for e in rows])


@bp.post("/entries/<int:entry_id>/content-decision")
@role_required("organizer")
def content_decision(entry_id: int):
    data = json_object()
    decision = data.get("decision")
    if not isinstance(decision, str) or decision not in review_gate.DECISIONS:
        raise ApiError(
            422,
            "validation_failed",
            "请选择放行或屏蔽",
            [{"field": "decision", "code": "invalid_choice", "message": "选项无效"}],
        )
    entry = _entry(entry_id)
    note = data.get("note") if isinstance(data.get("note"), str) else ""
    return jsonify(
        entry_payload(review_gate.decide_content(entry, decision, console_actor(), note))
    )


@bp.get("/duplicates")
@role_required("organizer")
def list_duplicates():
    pairs = (
        DuplicatePair.select()
        .join(Entry, on=(DuplicatePair.entry == Entry.id))
        .where(Entry.campaign == open_campaign())
        .order_by(DuplicatePair.similarity.desc())
    )
    items = [
        {
            "entry": pair.entry_id,
            "other": pair.other_id,
            "similarity": round(pair.similarity, 3),
            "group": pair.entry.duplicate_group,
        }
        for pair in pairs
    ]
    return jsonify(items=items)


@bp.post("/units/<int:unit_id>/merge")
@role_required("organizer")
def merge_unit(unit_id: int):
    target_id = json_object().get("into")
    source = _unit(unit_id)
    target = _unit(target_id) if is_row_id(target_id) else None
    if target is None or target.id == source.id:
        raise ApiError(
            422,
            "validation_failed",
            "请选择要合并到的另一个单位",
            [{"field": "into", "code": "invalid_choice", "message": "选项无效"}],
        )
    merged = review_gate.merge_units(source, target, console_actor())
    return jsonify(id=merged.id, name=merged.name, entries=merged.entries.count())


@bp.post("/late-codes")
@role_required("organizer")
def issue_late_code():
    data = json_object()
    campaign = open_campaign()
    problems = []
    try:
        expires_at = datetime.datetime.fromisoformat(str(data.get("expires_at")))
    except ValueError:
        expires_at = None
        problems.append(
            {"field": "expires_at", "code": "invalid_datetime", "message": "时间格式不正确"}
        )
    max_uses = data.get("max_uses", 1)
    if not is_whole_number(max_uses) or not 1 <= max_uses <= 1000:
        problems.append(
            {"field": "max_uses", "code": "out_of_range", "message": "次数应在 1–1000 之间"}
        )
    department = None
    if data.get("department") is not None:
        wanted = data["department"]
        department = (
            Department.get_or_none((Department.id == wanted) & (Department.campaign == campaign))
            if is_row_id(wanted)
            else None
        )
        if department is None:
            problems.append(
                {"field": "department", "code": "not_found", "message": "推荐单位不存在"}
            )
    if problems:
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", problems)
    if expires_at.tzinfo is not None:
        expires_at = expires_at.astimezone(datetime.UTC).replace(tzinfo=None)
    note = data.get("note") if isinstance(data.get("note"), str) else ""
    late = review_gate.issue_late_code(
        campaign, department, expires_at, max_uses, note, console_actor()
    )
    return jsonify(
        code=late.code, expires_at=late.expires_at.isoformat() + "Z", max_uses=late.max_uses
    ), 201


def _entry(entry_id: int) -> Entry:
    entry = Entry.get_or_none((Entry.id == entry_id) & (Entry.campaign == open_campaign()))
    if entry is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return entry


def _unit(unit_id: int) -> Unit:
    unit = Unit.get_or_none((Unit.id == unit_id) & (Unit.campaign == open_campaign()))
    if unit is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return unit
