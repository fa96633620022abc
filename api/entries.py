"""The caller's entries (DESIGN §9): drafts save anything, submit checks everything."""

from flask import Blueprint, jsonify, request

from api.access import open_campaign, own_unit, owned_entry
from api.errors import ApiError
from api.payload import json_object
from api.security import current_user, login_required
from campaign import entries as rules
from campaign import status
from campaign.clock import iso_local
from campaign.users import same_person
from models import Entry
from tasks.queue import require_queue
from tasks.reconcile import enqueue_submit_checks, requeue_text_check

bp = Blueprint("entries_api", __name__, url_prefix="/api/v1")

MAX_TEXT = 50_000  # far above any limit: a guard against abuse, not a rule of the campaign
MAX_THEMES = 10  # the plan offers fewer; a bound on what a client may send (issue 11)
MAX_THEME_LENGTH = 32


@bp.get("/entries")
@login_required
def list_entries():
    campaign = open_campaign()
    rows = (
        Entry.select()
        .where((Entry.campaign == campaign) & Entry.owner.in_(same_person(current_user())))
        .order_by(Entry.id)
    )
    return jsonify(items=[entry_payload(entry) for entry in rows])


@bp.post("/entries")
@login_required
def create_entry():
    campaign = open_campaign()
    unit = own_unit(campaign)
    if unit is None:
        raise ApiError(409, "unit_required", "请先登记单位信息")
    fields = draft_fields(json_object())
    _refuse_when_locked(campaign)
    entry = rules.create_entry(campaign, current_user(), unit, fields)
    return jsonify(entry_payload(entry)), 201


@bp.get("/entries/<int:entry_id>")
@login_required
def show_entry(entry_id: int):
    return jsonify(entry_payload(owned_entry(entry_id)))


@bp.patch("/entries/<int:entry_id>")
@login_required
def update_entry(entry_id: int):
    """Autosave: any subset of fields, never content-validated."""
    entry = owned_entry(entry_id)
    version = entry.version
    data = json_object()
    fields = draft_fields(data)
    try:
        rules.ensure_editable(entry, late_code=_late_code(data))
        entry = rules.save_draft(entry, fields, f"user:{current_user().id}")
    except rules.EntryLocked as locked:
        raise ApiError(409, locked.code, locked.message) from None
    if entry.status in (status.SUBMITTED, status.ENDORSED) and entry.version != version:
        requeue_text_check(entry.id)  # changed text after submit: check it again
    return jsonify(entry_payload(entry))


@bp.delete("/entries/<int:entry_id>")
@login_required
def delete_entry(entry_id: int):
    try:
        rules.delete_draft(owned_entry(entry_id), f"user:{current_user().id}")
    except rules.EntryLocked as locked:
        raise ApiError(409, locked.code, locked.message) from None
    return "", 204


@bp.post("/entries/<int:entry_id>/submit")
@login_required
def submit_entry(entry_id: int):
    entry = owned_entry(entry_id)
    data = request.get_json(silent=True) or {}
    require_queue()  # Redis down: 503 before anything is saved (issue 11)
    try:
        entry = rules.submit(entry, f"user:{current_user().id}", _late_code(data))
    except rules.SubmissionInvalid as invalid:
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", invalid.problems) from None
    except status.IllegalTransition as illegal:
        raise ApiError(409, "already_submitted", "该案例已提交") from illegal
    enqueue_submit_checks(entry.id)  # Redis lost since: tasks.reconcile enqueues them later
    return jsonify(entry_payload(entry))


@bp.post("/entries/<int:entry_id>/withdraw")
@login_required
def withdraw_entry(entry_id: int):
    entry = owned_entry(entry_id)
    try:
        entry = rules.withdraw(entry, f"user:{current_user().id}")
    except rules.EntryLocked as locked:
        raise ApiError(409, locked.code, locked.message) from None
    except status.IllegalTransition as illegal:
        raise ApiError(409, "not_withdrawable", "该案例当前状态不能撤回") from illegal
    return jsonify(entry_payload(entry))


def draft_fields(data: dict) -> dict:
    """The editable fields present in `data`, type-checked (types are not content rules)."""
    fields, problems = {}, []
    for name in rules.EDITABLE_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name == "themes":
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        else:
            ok = isinstance(value, str)
        if not ok:
            problems.append({"field": name, "code": "invalid_type", "message": "格式不正确"})
        elif name != "themes" and len(value) > MAX_TEXT:
            problems.append({"field": name, "code": "too_long", "message": "内容过长"})
        elif name == "themes" and (
            len(value) > MAX_THEMES or any(len(v) > MAX_THEME_LENGTH for v in value)
        ):
            problems.append(
                {"field": name, "code": "too_many", "max": MAX_THEMES, "message": "主题过多"}
            )
        else:
            fields[name] = value
    if problems:
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", problems)
    return fields


def _late_code(data: dict) -> str | None:
    code = data.get("late_code") or request.headers.get("X-Late-Code")
    return code if isinstance(code, str) and len(code) <= 32 else None


def _refuse_when_locked(campaign) -> None:
    if not rules.collection_open(campaign) and not request.headers.get("X-Late-Code"):
        raise ApiError(409, "collection_closed", "当前不在征集时间内")


def entry_payload(entry: Entry) -> dict:
    tz = entry.campaign.timezone
    payload = {name: getattr(entry, name) for name in rules.EDITABLE_FIELDS}
    department = entry.department
    payload.update(
        id=entry.id,
        status=entry.status,
        status_label=status.LABELS[entry.status],
        route=entry.route,
        department={"id": department.id, "name": department.name} if department else None,
        counts=rules.counts(entry),
        content_check=entry.content_check,
        version=entry.version,
        created_at=iso_local(entry.created_at, tz),
        updated_at=iso_local(entry.updated_at, tz),
        submitted_at=iso_local(entry.submitted_at, tz),
    )
    return payload
