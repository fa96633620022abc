"""The mail-in of a winner's stamped materials, from the plan's 网下提交 (DESIGN §5.5).

Each winning entry has one `MailIn`: `awaiting` until the mailroom scans its cover sheet (or
types its short code), then `received`; the mailroom ticks the plan's checklist and either
notes what is missing (`incomplete`, with the items) or closes it (`complete`). The stamped
form and the stamped text are required to complete; photos, video and press copies are ticked
when the unit has them. Every change is a conditional update on the status the caller saw,
with an audit row in the same transaction, so two clerks cannot overwrite each other.

Winners are entries in status `awarded`; their award is `Decision.award` (brand | case),
falling back to the entry's track while no decision row exists.
"""

import re
from dataclasses import dataclass

from peewee import JOIN

from campaign.audit import record
from campaign.clock import iso_local
from campaign.entries import status as entry_status
from campaign.problems import problem
from models import Campaign, Decision, Entry, MailIn, Unit, db, new_short_code, new_token, utcnow

AWAITING, RECEIVED, INCOMPLETE, COMPLETE = "awaiting", "received", "incomplete", "complete"
STATUSES = (AWAITING, RECEIVED, INCOMPLETE, COMPLETE)
STATUS_LABELS = {
    AWAITING: "待寄送",
    RECEIVED: "已签收",
    INCOMPLETE: "材料不全",
    COMPLETE: "材料齐全",
}
NOT_YET_IN = (AWAITING, INCOMPLETE)  # whom the mail-in reminders go to


@dataclass(frozen=True)
class Item:
    code: str
    label: str
    required: bool


ITEMS = (
    Item("stamped_form", "报名表（登记表）加盖单位公章", True),
    Item("text", "文字材料加盖单位公章", True),
    Item("photos", "有关图片", False),
    Item("video", "影像资料", False),
    Item("press", "媒体报道复印件", False),
)
ITEM_CODES = tuple(item.code for item in ITEMS)
AWARDS = {"brand": "新时代党建品牌", "case": "新时代党建优秀案例"}
MESSAGES = {
    "invalid_choice": "没有这一项材料",
    "invalid_type": "请用 true 或 false 表示是否收到",
    "required": "请至少选择一项缺少的材料",
    "too_long": "备注不能超过 500 字",
    "not_received": "材料尚未签收，请先扫码或输入编码签收",
    "required_missing": "必需材料未勾选",
}
SHORT_CODE = re.compile(r"^[A-Z2-9]{8}$")


class MailInInvalid(Exception):
    """The request has problems (422): every one is listed."""

    def __init__(self, problems: list[dict]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


class MailInRefused(Exception):
    """The request is well formed but the mail-in's state refuses it (409)."""

    def __init__(self, code: str, message: str, problems: list[dict] | None = None):
        super().__init__(code)
        self.code, self.message, self.problems = code, message, problems or []


@dataclass(frozen=True)
class Winner:
    """A winning entry with what the forms and lists show about it."""

    mailin: MailIn
    entry: Entry
    unit: Unit
    award: str

    @property
    def award_label(self) -> str:
        return AWARDS.get(self.award, self.award)


def _winning_entries(campaign: Campaign):
    return (
        Entry.select(Entry, Decision.award)
        .join(Decision, JOIN.LEFT_OUTER)
        .where((Entry.campaign == campaign) & (Entry.status == entry_status.AWARDED))
    )


def award_of(entry: Entry) -> str:
    """brand | case: the decision's award, or the entry's track without one."""
    decision = getattr(entry, "decision", None)
    award = getattr(decision, "award", None) if decision else None
    return award if award in AWARDS else entry.track


def ensure_mailins(campaign: Campaign) -> int:
    """Give every winner without one a mail-in (idempotent); return how many were created."""
    have = MailIn.select(MailIn.entry)
    missing = [e.id for e in _winning_entries(campaign).where(Entry.id.not_in(have))]
    rows = [
        {"entry": entry_id, "token": new_token(), "short_code": new_short_code()}
        for entry_id in missing
    ]
    if rows:
        with db.atomic():
            MailIn.insert_many(rows).on_conflict_ignore().execute()
    return len(rows)


def _mailins(campaign: Campaign):
    return (
        MailIn.select(MailIn, Entry, Unit, Decision.award)
        .join(Entry)
        .join(Unit)
        .switch(Entry)
        .join(Decision, JOIN.LEFT_OUTER)
        .where((Entry.campaign == campaign) & (Entry.status == entry_status.AWARDED))
    )


def _winner(mailin: MailIn) -> Winner:
    return Winner(mailin, mailin.entry, mailin.entry.unit, award_of(mailin.entry))


def winners_query(campaign: Campaign, unit: Unit | None = None, status: str | None = None):
    """The campaign's winners' mail-ins as a query, by unit then entry (creating missing
    rows); `as_winner` turns a row into a Winner. Pages paginate it."""
    ensure_mailins(campaign)
    query = _mailins(campaign).order_by(Unit.name, Entry.id)
    if unit is not None:
        query = query.where(Entry.unit == unit)
    if status is not None:
        query = query.where(MailIn.status == status)
    return query


def as_winner(mailin: MailIn) -> Winner:
    return _winner(mailin)


def winners(campaign: Campaign, unit: Unit | None = None, status: str | None = None):
    """The campaign's winners with their mail-ins, by unit then entry (creating missing rows)."""
    return [_winner(m) for m in winners_query(campaign, unit, status)]


def status_counts(campaign: Campaign) -> dict[str, int]:
    """How many winners' mail-ins are in each status (every status present)."""
    counts = dict.fromkeys(STATUSES, 0)
    for mailin in winners_query(campaign):
        counts[mailin.status] += 1
    return counts


def winner(campaign: Campaign, mailin_id: int) -> Winner | None:
    """One winner by mail-in id, or None (also when the award was withdrawn)."""
    found = _mailins(campaign).where(MailIn.id == mailin_id).first()
    return _winner(found) if found else None


def find_by_code(campaign: Campaign, code: str) -> MailIn | None:
    """The mail-in whose cover token or short code this is (spaces, dashes, case ignored for
    short codes), among the campaign's winners."""
    match = code_condition(code)
    if match is None:
        return None
    return (
        MailIn.select()
        .join(Entry)
        .where(match & (Entry.campaign == campaign) & (Entry.status == entry_status.AWARDED))
        .first()
    )


def code_condition(code: str):
    """Which mail-in a scanned token or a typed short code names, as a WHERE condition."""
    if not isinstance(code, str) or not code.strip() or len(code) > 64:
        return None
    typed = re.sub(r"[\s-]", "", code).upper()
    return MailIn.short_code == typed if SHORT_CODE.match(typed) else MailIn.token == code.strip()


def mark_received(mailin_id: int, actor: str) -> tuple[MailIn, bool]:
    """The package arrived: `awaiting` → `received`. Idempotent: a second scan changes nothing
    and answers False (the scan engine records who scanned when)."""
    now = utcnow()
    with db.atomic():
        moved = (
            MailIn.update(status=RECEIVED, received_at=now, received_by=actor, updated_at=now)
            .where((MailIn.id == mailin_id) & (MailIn.status == AWAITING))
            .execute()
        )
        mailin = MailIn.get_by_id(mailin_id)
        if moved:
            _audit(actor, "mailin.received", mailin, AWAITING)
    return mailin, bool(moved)


def tick(mailin: MailIn, items, actor: str) -> MailIn:
    """Set checklist items ticked or not: `{"stamped_form": true, "video": false}`. Unticking a
    required item of a complete mail-in takes it back to `received`."""
    problems = []
    if not isinstance(items, dict) or not items:
        problems.append(problem("items", "required", MESSAGES))
    else:
        for code, value in items.items():
            if code not in ITEM_CODES:
                problems.append(problem(f"items.{code}", "invalid_choice", MESSAGES))
            elif not isinstance(value, bool):
                problems.append(problem(f"items.{code}", "invalid_type", MESSAGES))
    if problems:
        raise MailInInvalid(problems)
    _require_received(mailin)
    checklist = {**(mailin.checklist or {}), **items}
    values = {"checklist": checklist}
    if mailin.status == COMPLETE and not all(checklist.get(i.code) for i in ITEMS if i.required):
        values.update(status=RECEIVED, completed_at=None, completed_by=None)  # no longer true
    return _change(mailin, actor, "mailin.checklist", **values)


def mark_incomplete(mailin: MailIn, missing, note, actor: str) -> MailIn:
    """Something is missing: `incomplete`, with the items (unticked) and an optional note."""
    problems = []
    if not isinstance(missing, list) or not missing:
        problems.append(problem("missing", "required", MESSAGES))
    else:
        unknown = [m for m in missing if m not in ITEM_CODES]
        if unknown:
            problems.append(problem("missing", "invalid_choice", MESSAGES, values=unknown[:10]))
    problems += _note_problems(note)
    if problems:
        raise MailInInvalid(problems)
    _require_received(mailin)
    ordered = [code for code in ITEM_CODES if code in missing]
    checklist = {**(mailin.checklist or {}), **dict.fromkeys(ordered, False)}
    return _change(
        mailin, actor, "mailin.incomplete", status=INCOMPLETE, missing=ordered,
        checklist=checklist, note=note or "", completed_at=None, completed_by=None,
    )  # fmt: skip


def mark_complete(mailin: MailIn, note, actor: str) -> MailIn:
    """Everything required is here: `complete`. Refused while a required item is unticked."""
    problems = _note_problems(note)
    if problems:
        raise MailInInvalid(problems)
    _require_received(mailin)
    unticked = [
        problem(f"items.{item.code}", "required_missing", MESSAGES)
        for item in ITEMS
        if item.required and not (mailin.checklist or {}).get(item.code)
    ]
    if unticked:
        raise MailInRefused("required_missing", "必需材料未勾选，不能标记为材料齐全", unticked)
    values = {"status": COMPLETE, "missing": [], "completed_at": utcnow(), "completed_by": actor}
    if note:
        values["note"] = note
    return _change(mailin, actor, "mailin.complete", **values)


def _note_problems(note) -> list[dict]:
    if note is None or note == "":
        return []
    if not isinstance(note, str):
        return [problem("note", "invalid_type", MESSAGES)]
    return [problem("note", "too_long", MESSAGES)] if len(note) > 500 else []


def _require_received(mailin: MailIn) -> None:
    if mailin.status == AWAITING:
        raise MailInRefused("not_received", MESSAGES["not_received"])


def _change(mailin: MailIn, actor: str, action: str, **values) -> MailIn:
    """Update on the status the caller saw; a concurrent change answers 409 `conflict`."""
    seen = mailin.status
    values["updated_at"] = utcnow()
    with db.atomic():
        changed = (
            MailIn.update(**values)
            .where((MailIn.id == mailin.id) & (MailIn.status == seen))
            .execute()
        )
        if not changed:
            raise MailInRefused("conflict", "该邮寄材料刚被他人更新，请刷新后重试")
        fresh = MailIn.get_by_id(mailin.id)
        _audit(actor, action, fresh, seen)
    return fresh


def _audit(actor: str, action: str, mailin: MailIn, before_status: str) -> None:
    record(
        actor,
        action,
        mailin,
        before={"status": before_status},
        after={"status": mailin.status, "checklist": mailin.checklist, "missing": mailin.missing},
        campaign=Entry.get_by_id(mailin.entry_id).campaign_id,
    )


def checklist_view(mailin: MailIn) -> list[dict]:
    ticked = mailin.checklist or {}
    return [
        {"code": i.code, "label": i.label, "required": i.required,
         "ticked": bool(ticked.get(i.code))}
        for i in ITEMS
    ]  # fmt: skip


def payload(found: Winner, timezone: str) -> dict:
    """What the winner and the organizer see of one mail-in (never the token); times in the
    campaign's `timezone`."""
    mailin, entry = found.mailin, found.entry
    labels = {item.code: item.label for item in ITEMS}
    return {
        "id": mailin.id,
        "entry": {"id": entry.id, "title": entry.title, "track": entry.track},
        "unit": {"id": found.unit.id, "name": found.unit.name},
        "award": found.award,
        "award_label": found.award_label,
        "status": mailin.status,
        "status_label": STATUS_LABELS.get(mailin.status, mailin.status),
        "short_code": mailin.short_code,
        "checklist": checklist_view(mailin),
        "missing": [{"code": code, "label": labels[code]} for code in mailin.missing or []],
        "note": mailin.note,
        "received_at": iso_local(mailin.received_at, timezone),
        "completed_at": iso_local(mailin.completed_at, timezone),
    }


def cover_target(code: str):
    """The scan engine's resolver for `mailin` codes: the cover sheet's opaque token (its QR)
    or the printed short code, typed; the package's entry and unit are what the mailroom sees."""
    from campaign.redeem.engine import Target

    match = code_condition(code)
    row = match and (
        MailIn.select(MailIn.id, Entry.campaign, Entry.title, MailIn.short_code)
        .join(Entry)
        .where(match)
        .tuples()
        .first()
    )
    if row is None:
        return None
    mailin_id, campaign_id, title, short_code = row
    label = {"title": title, "short_code": short_code}
    return Target("mailin", mailin_id, campaign_id, label)


def received_by_scan(target, redemption) -> None:
    """A package's first scan marks it received (inside the redemption's transaction)."""
    mark_received(target.object_id, redemption.by)
