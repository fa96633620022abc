"""What organizers do with entries the machine flagged: content verdicts, duplicates,
merged units and late codes. Every decision is audited."""

import datetime
import secrets

from campaign.audit import record
from models import Entry, LateCode, Unit, db, utcnow

DECISIONS = {"release": "cleared", "block": "blocked"}
LATE_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def decide_content(entry: Entry, decision: str, actor: str, note: str = "") -> Entry:
    """An organizer releases flagged text (`cleared`) or keeps it from everyone (`blocked`)."""
    verdict = DECISIONS[decision]
    with db.atomic():
        before = {"content_check": entry.content_check}
        Entry.update(content_check=verdict).where(Entry.id == entry.id).execute()
        record(
            actor,
            "entry.content_decision",
            entry,
            before,
            {"content_check": verdict, "note": note},
            entry.campaign_id,
        )
    return Entry.get_by_id(entry.id)


def merge_units(source: Unit, target: Unit, actor: str) -> Unit:
    """Fold a duplicate unit registration into another; its entries move with it."""
    if source.id == target.id or source.campaign_id != target.campaign_id:
        raise ValueError("units must differ and belong to the same campaign")
    with db.atomic():
        moved = Entry.update(unit=target).where(Entry.unit == source).execute()
        Unit.update(merged_into=target, updated_at=utcnow()).where(Unit.id == source.id).execute()
        record(
            actor,
            "unit.merge",
            source,
            None,
            {"into": target.id, "entries": moved},
            source.campaign_id,
        )
    return Unit.get_by_id(target.id)


def issue_late_code(
    campaign, department, expires_at: datetime.datetime, max_uses: int, note: str, actor: str
) -> LateCode:
    """A code that lets a department's units submit after the deadline, until it expires."""
    code = "L-" + "".join(secrets.choice(LATE_CODE_ALPHABET) for _ in range(8))
    with db.atomic():
        late = LateCode.create(
            campaign=campaign,
            department=department,
            code=code,
            expires_at=expires_at,
            max_uses=max_uses,
            note=note,
            created_by=actor,
        )
        record(
            actor,
            "late_code.issue",
            late,
            None,
            {"department": getattr(department, "id", None), "max_uses": max_uses},
            campaign.id,
        )
    return late
