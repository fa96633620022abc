"""`/h5/entries…` and `/h5/progress`: write, autosave, submit, withdraw, follow the status.

Thin, like `api/unit/entries.py`: ownership through `api.access`, every rule in
`campaign.entries.operations` (drafts save anything, submit checks everything and lists
every problem), the same content, media and duplicate checks queued after a submit.
"""

from urllib.parse import urlencode

from flask import Blueprint, jsonify, redirect, render_template, request

from api.access import own_unit, owned_entry
from api.errors import ApiError
from api.unit.entries import draft_fields
from campaign.clock import to_local
from campaign.entries import evidence as evidence_rules
from campaign.entries import operations as rules
from campaign.entries import status
from campaign.problems import Invalid
from campaign.users import same_person
from models import Attachment, Entry, StatusChange
from pages.h5.common import by_field, choices, signed_in, the_campaign
from tasks.reconcile import enqueue_submit_checks, requeue_text_check

bp = Blueprint("entries", __name__)

HISTORY_WORDS = {
    status.SUBMITTED: "已提交，等待推荐单位审核",
    status.ENDORSED: "推荐单位已推荐",
    status.RETURNED: "推荐单位退回修改",
    status.UNDER_REVIEW: "进入专家评审",
    status.SHORTLISTED: "已入围",
    status.AWARDED: "已入选",
    status.NOT_SELECTED: "未入选",
    status.WITHDRAWN: "您已撤回",
    status.DRAFT: "草稿",
}


def my_entries(campaign, user):
    """The signed-in person's entries (either WeChat app), as `GET /api/v1/entries` lists."""
    return (
        Entry.select()
        .where((Entry.campaign == campaign) & Entry.owner.in_(same_person(user)))
        .order_by(Entry.id)
    )


def _actor(user) -> str:
    return f"user:{user.id}"


def editable(entry: Entry, code: str | None = None) -> bool:
    try:
        rules.ensure_editable(entry, late_code=code)
    except rules.EntryLocked:
        return False
    return True


def form_fields() -> dict:
    """The entry fields of a form post, type-checked by the API's own `draft_fields`."""
    data = {name: request.form[name] for name in rules.TEXT_FIELDS if name in request.form}
    for name in ("track", "domain"):
        if name in request.form:
            data[name] = request.form[name]
    if "themes_sent" in request.form:
        data["themes"] = request.form.getlist("themes")
    return draft_fields(data)


def back_to(entry: Entry, done: str, anchor: str = "") -> str:
    """The entry page after a change, keeping the 补报码 that opened it after the deadline."""
    code = late_code()
    query = urlencode({"done": done, **({"late_code": code} if code else {})})
    return f"/h5/entries/{entry.id}?{query}{anchor}"


def late_code() -> str | None:
    """The 补报码 a unit typed (form, or the query of the page that asked for it)."""
    code = (request.values.get("late_code") or "").strip()
    return code if code and len(code) <= 32 else None


@bp.get("/entries")
def list_entries():
    user = signed_in()
    campaign = the_campaign()
    return render_template(
        "h5/entries.html",
        entries=list(my_entries(campaign, user)),
        unit=own_unit(campaign),
        can_create=rules.collection_open(campaign),
    )


@bp.post("/entries")
def create_entry():
    user = signed_in()
    campaign = the_campaign()
    unit = own_unit(campaign)
    if unit is None:
        return redirect("/h5/unit?next=entry", 303)
    if not rules.collection_open(campaign):
        raise ApiError(409, "collection_closed", "当前不在征集时间内")
    entry = rules.create_entry(campaign, user, unit, form_fields())
    return redirect(f"/h5/entries/{entry.id}", 303)


@bp.get("/entries/<int:entry_id>")
def show_entry(entry_id: int):
    signed_in()
    return _entry_page(owned_entry(entry_id), {}, request.args.get("done"))


@bp.post("/entries/<int:entry_id>")
def save_entry(entry_id: int):
    """保存 or 提交: the form's fields are saved as a draft first, then submit checks them."""
    user = signed_in()
    entry = owned_entry(entry_id)
    version = entry.version
    code = late_code()
    submitting = request.form.get("action") == "submit"
    if not (submitting and code and not rules.collection_open(entry.campaign)):
        # after the deadline a 补报码 lets the entry be submitted as it is, not edited (the
        # API's rule too: `save_draft` is closed then); before it, the form is saved first
        rules.ensure_editable(entry, late_code=code)
        entry = rules.save_draft(entry, form_fields(), _actor(user))
    if not submitting:
        if entry.status in (status.SUBMITTED, status.ENDORSED) and entry.version != version:
            requeue_text_check(entry.id)
        return redirect(back_to(entry, "saved"), 303)
    consent = {"yes": True, "no": False}.get(request.form.get("publish_name", ""))
    try:
        entry = rules.submit(entry, _actor(user), code, consent)
    except Invalid as invalid:
        return _entry_page(entry, by_field(invalid.problems), None), 422
    except status.IllegalTransition:
        raise ApiError(409, "already_submitted", "该案例已提交") from None
    # No PING first, unlike the API: this request's session was just read from Redis, so a
    # Redis that is down was refused (503) before anything was saved; one lost since then
    # is logged and the sweeper enqueues the checks.
    enqueue_submit_checks(entry.id)
    return redirect(back_to(entry, "submitted"), 303)


@bp.post("/entries/<int:entry_id>/autosave")
def autosave(entry_id: int):
    """The page script's debounced save: any subset of fields, never content-validated."""
    user = signed_in()
    entry = owned_entry(entry_id)
    version = entry.version
    rules.ensure_editable(entry, late_code=late_code())
    entry = rules.save_draft(entry, form_fields(), _actor(user))
    if entry.status in (status.SUBMITTED, status.ENDORSED) and entry.version != version:
        requeue_text_check(entry.id)
    return jsonify(saved=True, version=entry.version, counts=rules.counts(entry))


@bp.post("/entries/<int:entry_id>/withdraw")
def withdraw(entry_id: int):
    user = signed_in()
    entry = owned_entry(entry_id)
    try:
        rules.withdraw(entry, _actor(user))
    except status.IllegalTransition:
        raise ApiError(409, "not_withdrawable", "该案例当前状态不能撤回") from None
    return redirect(f"/h5/entries/{entry.id}?done=withdrawn", 303)


@bp.get("/progress")
def progress():
    """What the 进度 keyword links: every entry of the signed-in person and where it is."""
    user = signed_in()
    rows = list(my_entries(the_campaign(), user))
    return render_template(
        "h5/progress.html", entries=rows, histories={e.id: history(e) for e in rows}
    )


def history(entry: Entry) -> list[dict]:
    """The entry's status changes, oldest first, with the department's reason when returned."""
    changes = StatusChange.select().where(StatusChange.entry == entry).order_by(StatusChange.id)
    tz = entry.campaign.timezone
    return [
        {
            "label": status.LABELS.get(change.to_status, change.to_status),
            "words": HISTORY_WORDS.get(change.to_status, ""),
            "reason": change.note if change.to_status == status.RETURNED else "",
            "at": f"{to_local(change.at, tz):%Y-%m-%d %H:%M}",
        }
        for change in changes
    ]


def _entry_page(entry: Entry, problems: dict, done: str | None):
    campaign = entry.campaign
    attachments = Attachment.select().where(Attachment.entry == entry).order_by(Attachment.id)
    limits = {
        kind: {**evidence_rules.kind_limits(campaign, kind), "label": label}
        for kind, label in evidence_rules.KIND_LABELS.items()
    }
    return render_template(
        "h5/entry.html",
        entry=entry,
        problems=problems,
        done=done,
        editable=editable(entry),
        late_code=late_code() or "",
        withdrawable=entry.status != status.DRAFT
        and status.can_move(entry.status, status.WITHDRAWN),
        submittable=entry.status in rules.SUBMITTABLE,
        late=not rules.collection_open(campaign),
        limits=campaign.limits,
        evidence_limits=limits,
        attachments=list(attachments),
        history=history(entry),
        counts=rules.counts(entry),
        label=status.LABELS[entry.status],
        **choices(campaign),
    )
