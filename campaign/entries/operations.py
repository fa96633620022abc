"""Entries: creating, saving drafts, checking and submitting, withdrawing (DESIGN §5.2).

Drafts save anything, always: nothing a unit typed is ever refused or lost (the last
`KEEP_REVISIONS` versions are kept). Submit checks everything at once and returns every
problem, each with a stable code, so the mini-program can show them all together.
"""

import contextlib
import datetime

from campaign.attribution import attribute, attribution_of
from campaign.audit import record
from campaign.definition import option_codes
from campaign.entries import evidence, status
from campaign.entries.wordcount import count_zi
from campaign.problems import PROBLEM_MESSAGES, Invalid, Refused, problem
from models import (
    Attachment,
    Campaign,
    Entry,
    EntryRevision,
    LateCode,
    Unit,
    WechatUser,
    db,
    utcnow,
)
from storage import get_storage

TEXT_FIELDS = ("title", "abstract", "background", "approach", "results", "significance")
ELEMENTS = ("background", "approach", "results", "significance")
EDITABLE_FIELDS = ("track", "domain", "themes") + TEXT_FIELDS
KEEP_REVISIONS = 20
COLLECTION_STAGE = "collection"
OPEN_STATUSES = (
    status.DRAFT,
    status.RETURNED,
    status.SUBMITTED,
    status.ENDORSED,
    status.WITHDRAWN,
)
SUBMITTABLE = (status.DRAFT, status.RETURNED, status.WITHDRAWN)
DELETABLE = (status.DRAFT, status.WITHDRAWN)
LIVE = (status.SUBMITTED, status.ENDORSED)  # edits must keep these passing every submit check
REOPEN_NOTE = "edited after endorsement"


class EntryLocked(Refused):
    """The entry cannot change now (stage, deadline or status)."""


def counts(entry: Entry) -> dict:
    """Live 字数 of the title, abstract, each element and the body (their sum)."""
    elements = {name: count_zi(getattr(entry, name) or "") for name in ELEMENTS}
    return {
        "title": count_zi(entry.title or ""),
        "abstract": count_zi(entry.abstract or ""),
        "elements": elements,
        "body": sum(elements.values()),
    }


def deadline(campaign: Campaign) -> datetime.datetime:
    """The first moment (naive UTC) at which submitting is closed, grace included."""
    return campaign.closes_at + datetime.timedelta(seconds=1, minutes=campaign.grace_minutes)


def collection_open(campaign: Campaign, now: datetime.datetime | None = None) -> bool:
    now = now or utcnow()
    return campaign.stage == COLLECTION_STAGE and campaign.opens_at <= now < deadline(campaign)


def ensure_editable(entry: Entry, now=None, late_code: str | None = None) -> None:
    """Raise EntryLocked unless the unit may still change this entry.

    After the deadline, a valid late code (given by the organizer to the entry's
    department) reopens the entry; it is spent only when the entry is submitted.
    """
    campaign = entry.campaign
    now = now or utcnow()
    if entry.status not in OPEN_STATUSES:
        raise EntryLocked("not_editable", "该案例当前状态不能修改")
    if campaign.stage != COLLECTION_STAGE:
        raise EntryLocked("stage_closed", "征集阶段已结束，不能再修改")
    if now < campaign.opens_at:
        raise EntryLocked("not_open", "征集尚未开始")
    if now >= deadline(campaign) and find_late_code(entry, late_code, now) is None:
        raise EntryLocked("deadline_passed", "已过征集截止时间，不能再修改")


def creation_open(campaign: Campaign, user: WechatUser, late_code: str | None, now=None) -> bool:
    """Whether `user` may start an entry now: collection is open, or after the deadline
    `late_code` is a live code covering the department their entries will carry."""
    now = now or utcnow()
    if collection_open(campaign, now):
        return True
    if campaign.stage != COLLECTION_STAGE or now < deadline(campaign):
        return False
    attribution = attribution_of(campaign, user)
    department = attribution.department_id if attribution else None
    probe = Entry(campaign=campaign.id, department=department)
    return find_late_code(probe, late_code, now) is not None


def find_late_code(entry: Entry, code: str | None, now=None) -> LateCode | None:
    """The late code `code` if it is live and covers this entry's department."""
    if not code:
        return None
    return LateCode.get_or_none(
        (LateCode.code == code)
        & (LateCode.campaign == entry.campaign_id)
        & (LateCode.expires_at > (now or utcnow()))
        & (LateCode.uses < LateCode.max_uses)
        & (LateCode.department.is_null() | (LateCode.department == entry.department_id))
    )


def create_entry(campaign: Campaign, user: WechatUser, unit: Unit, fields: dict) -> Entry:
    """A new draft, stamped with the user's route and department (their first touch)."""
    attribution = attribute(campaign, user, None)  # the existing one, else the first touch
    values = {name: fields[name] for name in EDITABLE_FIELDS if name in fields}
    with db.atomic():
        entry = Entry.create(
            campaign=campaign,
            unit=unit,
            owner=user,
            route=attribution.route,
            channel=attribution.channel_id,
            department=attribution.department_id,
            **values,
        )
        _keep_revision(entry, prune=False)  # a new entry has nothing older to drop
        record(f"user:{user.id}", "entry.create", entry, None, values, campaign.id)
    return entry


def save_draft(entry: Entry, fields: dict, actor: str, late_code: str | None = None) -> Entry:
    """Save whatever was sent; keep a revision; log edits after submit.

    A draft saves anything. A submitted or endorsed entry is live: an edit must leave it
    passing every submit check, or it is refused whole (Invalid) and nothing is
    saved; an accepted edit of an endorsed entry sends it back to the department (submitted).
    """
    ensure_editable(entry, late_code=late_code)
    changes = {
        name: fields[name]
        for name in EDITABLE_FIELDS
        if name in fields and fields[name] != getattr(entry, name)
    }
    if not changes:
        return entry
    if entry.status in LIVE:
        found = content_problems(Entry(**{**entry.__data__, **changes}))
        if found:
            raise Invalid(found)
    before = {name: getattr(entry, name) for name in changes}
    with db.atomic():
        Entry.update(**changes, updated_at=utcnow(), version=Entry.version + 1).where(
            Entry.id == entry.id
        ).execute()
        entry = Entry.get_by_id(entry.id)
        _keep_revision(entry)
        if entry.status != status.DRAFT:
            record(actor, "entry.edit_after_submit", entry, before, changes, entry.campaign_id)
        entry = reopen_endorsed(entry, actor)
    return entry


def reopen_endorsed(entry: Entry, actor: str) -> Entry:
    """An endorsed entry that changed goes back to `submitted`, for the department to look
    again (it sees what changed since it endorsed: campaign.channels.endorsements.changes)."""
    if entry.status != status.ENDORSED:
        return entry
    return status.move(entry, status.SUBMITTED, actor, REOPEN_NOTE)


def remove_evidence(entry: Entry, attachment: Attachment, storage, actor: str) -> Entry:
    """Delete one attachment; on a live entry only if the rest still passes submit."""
    if entry.status in LIVE:
        left = Attachment.select().where(
            (Attachment.entry == entry) & (Attachment.id != attachment.id)
        )
        found = content_problems(entry, evidence_count=left.count())
        if found:
            raise Invalid(found)
    with db.atomic():
        entry = reopen_endorsed(entry, actor)
        evidence.remove(attachment, storage, actor)
    return entry


def _keep_revision(entry: Entry, prune: bool = True) -> None:
    EntryRevision.create(entry=entry, data={name: getattr(entry, name) for name in EDITABLE_FIELDS})
    if not prune:
        return
    stale = (
        EntryRevision.select(EntryRevision.id)
        .where(EntryRevision.entry == entry)
        .order_by(EntryRevision.id.desc())
        .offset(KEEP_REVISIONS)
    )
    EntryRevision.delete().where(EntryRevision.id.in_(stale)).execute()


def check_submission(entry: Entry, late_code: str | None = None, now=None) -> list[dict]:
    """Every reason `entry` cannot be submitted now (an empty list means it can)."""
    return _check_window(entry, late_code, now or utcnow()) + content_problems(entry)


def content_problems(entry: Entry, evidence_count: int | None = None) -> list[dict]:
    """Every submit problem of the entry's content, unit and evidence (not of the clock)."""
    campaign = entry.campaign
    found = _check_choices(entry, campaign)
    found += _check_texts(entry, campaign.limits)
    found += _check_unit(entry.unit)
    minimum = int(campaign.limits.get("evidence_min", 0))
    have = evidence_count
    if have is None:
        have = Attachment.select().where(Attachment.entry == entry.id).count()
    if have < minimum:
        found.append(problem("attachments", "evidence_missing", count=have, min=minimum))
    return found


def _check_window(entry: Entry, late_code, now) -> list[dict]:
    try:
        ensure_editable(entry, now, late_code)
    except EntryLocked as locked:
        if locked.code == "deadline_passed" and late_code:
            return [problem("late_code", "late_code_invalid")]
        if locked.code in PROBLEM_MESSAGES:
            return [problem("deadline", locked.code)]
    return []


def _check_choices(entry: Entry, campaign: Campaign) -> list[dict]:
    found = []
    choices = option_codes(campaign, "track", "domain", "theme")
    tracks, domains, themes = choices["track"], choices["domain"], choices["theme"]
    if not entry.track:
        found.append(problem("track", "required"))
    elif entry.track not in tracks:
        found.append(problem("track", "invalid_choice", value=entry.track))
    if not entry.domain:
        found.append(problem("domain", "required"))
    elif entry.domain not in domains:
        found.append(problem("domain", "invalid_choice", value=entry.domain))
    chosen = entry.themes if isinstance(entry.themes, list) else []
    if not chosen:
        found.append(problem("themes", "required"))
    for value in chosen:
        if value not in themes:
            found.append(problem("themes", "invalid_choice", value=value))
    return found


def _check_texts(entry: Entry, limits: dict) -> list[dict]:
    found = []
    measured = counts(entry)
    title_max = limits.get("title", {}).get("max")
    if not (entry.title or "").strip():
        found.append(problem("title", "required"))
    elif title_max and measured["title"] > title_max:
        found.append(problem("title", "too_long", count=measured["title"], max=title_max))
    found += _within("abstract", measured["abstract"], limits["abstract"])
    empty = [name for name in ELEMENTS if not (getattr(entry, name) or "").strip()]
    found += [problem(name, "required") for name in empty]
    if not empty:
        found += _within("body", measured["body"], limits["body"])
    return found


def _within(field: str, count: int, bounds: dict) -> list[dict]:
    if count == 0:
        return [problem(field, "required")]
    if count < bounds["min"]:
        return [problem(field, "too_short", count=count, min=bounds["min"], max=bounds["max"])]
    if count > bounds["max"]:
        return [problem(field, "too_long", count=count, min=bounds["min"], max=bounds["max"])]
    return []


UNIT_REQUIRED = ("name", "region", "domain", "org_level", "contact_name", "contact_phone")


def _check_unit(unit: Unit) -> list[dict]:
    missing = [name for name in UNIT_REQUIRED if not getattr(unit, name)]
    return [problem("unit", "unit_incomplete", missing=missing)] if missing else []


def submit(
    entry: Entry, actor: str, late_code: str | None = None, name_consent: bool | None = None
) -> Entry:
    """Submit (or re-submit) an entry, or raise Invalid / IllegalTransition.
    `name_consent` is the unit's answer to "may a public list show our name?" (None: kept)."""
    if entry.status not in SUBMITTABLE:
        raise status.IllegalTransition(entry.id, entry.status, status.SUBMITTED)
    now = utcnow()
    problems = check_submission(entry, late_code, now)
    if problems:
        raise Invalid(problems)
    late = now >= deadline(entry.campaign)
    # Only a late submit spends a code with the move; else the move's own transaction is all
    # (an outer one would turn it into a savepoint: two round trips for nothing).
    with db.atomic() if late else contextlib.nullcontext():
        if late:
            _spend_late_code(entry, late_code, now)
        note = f"late code {late_code}" if late else ""
        consent = {} if name_consent is None else {"name_consent": name_consent}
        return status.move(
            entry,
            status.SUBMITTED,
            actor,
            note,
            submitted_at=now,
            content_check="pending",
            **consent,
        )


def _spend_late_code(entry: Entry, code: str, now) -> None:
    spent = (
        LateCode.update(uses=LateCode.uses + 1)
        .where(
            (LateCode.code == code)
            & (LateCode.uses < LateCode.max_uses)
            & (LateCode.expires_at > now)
        )
        .execute()
    )
    if not spent:  # used up between the check and now
        raise Invalid([problem("late_code", "late_code_invalid")])


def withdraw(entry: Entry, actor: str) -> Entry:
    """The unit takes a submitted entry back (before the deadline); it can resubmit later."""
    ensure_editable(entry)
    return status.move(entry, status.WITHDRAWN, actor, "withdrawn by the unit")


def delete_draft(entry: Entry, actor: str) -> None:
    """Delete a draft that was never submitted (or was withdrawn)."""
    if entry.status not in DELETABLE:
        raise EntryLocked("not_deletable", "已提交的案例不能删除，如需撤回请使用撤回功能")
    keys = evidence.stored_keys(entry.attachments)
    with db.atomic():
        before = {"status": entry.status, "title": entry.title}
        record(actor, "entry.delete", entry, before, None, entry.campaign_id)
        entry.delete_instance()
    evidence.discard(get_storage(), keys)
