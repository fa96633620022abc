"""Organizer pages over entries: the list with filters and a title search, one entry with
its text, revisions, status history, evidence, content check decision and duplicates."""

from flask import Blueprint, request
from peewee import JOIN

from api.errors import ApiError
from api.unit.attachments import attachment_file
from campaign.definition import options
from campaign.entries import screening as review_gate
from campaign.entries import status
from campaign.entries.operations import TEXT_FIELDS
from models import Attachment, Department, DuplicatePair, Entry, EntryRevision, Unit
from pages.console.changes import FIELD_LABELS, field_changes
from pages.console.layout import actor, campaign_or_404, page_for, paginate, render

bp = Blueprint("entries", __name__)

IMAGE_MIMES = ("image/jpeg", "image/png", "image/gif", "image/webp")


@bp.get("/entries")
@page_for("organizer")
def index():
    campaign = campaign_or_404()
    query = (
        Entry.select(Entry, Unit, Department)  # the rows' unit and department in one query
        .join(Unit, on=(Entry.unit == Unit.id))
        .switch(Entry)
        .join(Department, JOIN.LEFT_OUTER, on=(Entry.department == Department.id))
        .where(Entry.campaign == campaign)
    )
    wanted = {
        "status": request.args.get("status", ""),
        "route": request.args.get("route", ""),
        "department": request.args.get("department", type=int),
        "q": request.args.get("q", "").strip()[:100],
        "unit": request.args.get("unit", type=int),
        "duplicates": request.args.get("duplicates") == "1",
    }
    if wanted["status"] in status.LABELS:
        query = query.where(Entry.status == wanted["status"])
    if wanted["route"]:
        query = query.where(Entry.route == wanted["route"])
    if wanted["department"]:
        query = query.where(Entry.department == wanted["department"])
    if wanted["unit"]:
        query = query.where(Entry.unit == wanted["unit"])
    if wanted["duplicates"]:
        query = query.where(Entry.duplicate_group.is_null(False))
    if wanted["q"]:  # a plain substring of the title or abstract; full search is issue 15
        query = query.where(
            Entry.title.contains(wanted["q"]) | Entry.abstract.contains(wanted["q"])
        )
    return render(
        "console/entries.html",
        "results",
        pager=paginate(query.order_by(Entry.id.desc())),
        wanted=wanted,
        routes=options(campaign, "route"),
        departments=Department.select()
        .where(Department.campaign == campaign)
        .order_by(Department.name),
    )


@bp.get("/entries/<int:entry_id>")
@page_for("organizer")
def show(entry_id: int):
    entry = _entry(entry_id)
    attachments = list(entry.attachments.order_by(Attachment.id))
    return render(
        "console/entry.html",
        entry=entry,
        texts=[(FIELD_LABELS[name], getattr(entry, name)) for name in TEXT_FIELDS],
        revisions=_revisions(entry),
        changes=list(entry.status_changes.order_by(-entry.status_changes.model.id)),
        attachments=attachments,
        image_mimes=IMAGE_MIMES,
        duplicates=list(DuplicatePair.select().where(DuplicatePair.entry == entry)),
        decisions=review_gate.DECISIONS,
    )


@bp.get("/entries/<int:entry_id>/attachments/<int:attachment_id>")
@page_for("organizer")
def attachment(entry_id: int, attachment_id: int):
    """The evidence file: images inline for the viewer, anything else as a download."""
    found = Attachment.get_or_none(
        (Attachment.id == attachment_id) & (Attachment.entry == _entry(entry_id))
    )
    if found is None or not found.storage_key:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return attachment_file(found, "inline" if found.mime in IMAGE_MIMES else "attachment")


@bp.post("/entries/<int:entry_id>/content-decision")
@page_for("organizer")
def content_decision(entry_id: int):
    decision = request.form.get("decision", "")
    if decision not in review_gate.DECISIONS:
        raise ApiError(422, "validation_failed", "请选择放行或屏蔽")
    entry = review_gate.decide_content(
        _entry(entry_id), decision, actor(), request.form.get("note", "")[:1000]
    )
    return render("console/entry.html", "check", entry=entry, decisions=review_gate.DECISIONS)


def _revisions(entry: Entry, keep: int = 20) -> list[dict]:
    """The last `keep` saved revisions, newest first, each with what it changed from the
    one before (None for the first save)."""
    rows = list(
        EntryRevision.select()
        .where(EntryRevision.entry == entry)
        .order_by(EntryRevision.id.desc())
        .limit(keep + 1)
    )
    older = [*rows[1:], None][: len(rows)]
    return [
        {"revision": row, "changes": field_changes(before.data, row.data) if before else None}
        for row, before in list(zip(rows, older, strict=True))[:keep]
    ]


def _entry(entry_id: int) -> Entry:
    entry = Entry.get_or_none((Entry.id == entry_id) & (Entry.campaign == campaign_or_404()))
    if entry is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return entry
