"""The caller's entries (DESIGN §9): drafts save anything, submit checks everything."""

from flask import Blueprint, jsonify, request

from api.access import open_campaign, own_unit, owned_entry
from api.errors import ApiError
from api.payload import json_object
from api.security import current_user, login_required
from campaign.clock import iso_local
from campaign.entries import operations as rules
from campaign.entries import search, status
from campaign.notices import status_messages as status_notices
from campaign.problems import Invalid, is_row_id
from campaign.publication.consent import consent_value
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
    data = json_object()
    fields = draft_fields(data)
    if not rules.creation_open(campaign, current_user(), _late_code(data)):
        raise ApiError(409, "collection_closed", "当前不在征集时间内")
    entry = rules.create_entry(campaign, current_user(), unit, fields)
    return jsonify(entry_payload(entry)), 201


@bp.get("/entries/<int:entry_id>")
@login_required
def show_entry(entry_id: int):
    return jsonify(entry_payload(owned_entry(entry_id)))


@bp.patch("/entries/<int:entry_id>")
@login_required
def update_entry(entry_id: int):
    """Autosave: any subset of fields; a draft is never content-validated, a submitted or
    endorsed entry must still pass every submit check (422 lists what would break)."""
    entry = owned_entry(entry_id)
    version = entry.version
    data = json_object()
    fields = draft_fields(data)
    entry = rules.save_draft(entry, fields, f"user:{current_user().id}", _late_code(data))
    if entry.status in (status.SUBMITTED, status.ENDORSED) and entry.version != version:
        requeue_text_check(entry.id)  # changed text after submit: check it again
    return jsonify(entry_payload(entry))


@bp.delete("/entries/<int:entry_id>")
@login_required
def delete_entry(entry_id: int):
    rules.delete_draft(owned_entry(entry_id), f"user:{current_user().id}")
    return "", 204


@bp.post("/entries/<int:entry_id>/submit")
@login_required
def submit_entry(entry_id: int):
    entry = owned_entry(entry_id)
    data = request.get_json(silent=True) or {}
    require_queue()  # Redis down: 503 before anything is saved (issue 11)
    try:
        entry = rules.submit(
            entry,
            f"user:{current_user().id}",
            _late_code(data),
            consent_value(data.get("publish_name")),
        )
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
        publish_name=entry.name_consent,
        returned=status_notices.returned_info(entry),
    )
    return payload


def list_payload(entry: Entry) -> dict:
    """An entry as lists show it to departments and organizers: the entry, its unit (name,
    region), evidence count and duplicate group."""
    unit = entry.unit
    return {
        **entry_payload(entry),
        "unit": {"id": unit.id, "name": unit.name, "region": unit.region},
        "attachments": entry.attachments.count(),
        "duplicate_group": entry.duplicate_group,
    }


def list_filters(names: tuple) -> tuple[dict, str]:
    """The list filters `names` present in the query string (typed), and the search text."""
    filters = {}
    for name in names:
        value = request.args.get(name, "")
        if name in search.INTEGER_FILTERS and value:
            # an id no row can have (text, 0, 10**30): said plainly, never a database overflow
            if not (value.isdigit() and len(value) < 12 and is_row_id(int(value))):
                problem = {"field": name, "code": "invalid_id", "message": "编号无效"}
                raise Invalid([problem], "筛选条件无效")
            value = int(value)
        if value not in (None, ""):
            filters[name] = value
    return filters, search.clean_query(request.args.get("q"))
