"""Entries taken off the plain ranking until someone rules: the chair's 政治性 queue and the
committee re-review (复核) of the borderline band around the cut line."""

from campaign.audit import record
from campaign.review.refusals import Refused
from models import Entry, ReviewHold, db, utcnow

CHAIR_RULINGS = ("pass", "fail")
RECHECK_OUTCOMES = ("confirm", "raise", "lower")


def open_recheck(campaign, entry_ids: list[int], actor: str) -> list[int]:
    """Send entries to 复核; entries already there are left as they are. Returns the ids."""
    entries = Entry.select(Entry.id).where((Entry.campaign == campaign) & Entry.id.in_(entry_ids))
    sent = []
    with db.atomic():
        for (entry_id,) in entries.tuples():
            hold, created = ReviewHold.get_or_create(
                entry=entry_id, kind="recheck", defaults={"opened_by": actor}
            )
            if created:
                record(actor, "review.recheck.open", hold, None, {"entry": entry_id}, campaign.id)
                sent.append(entry_id)
    return sent


def rule(entry: Entry, kind: str, outcome: str, note: str, actor: str) -> ReviewHold:
    """The chair's ruling (pass | fail) or the committee's (confirm | raise | lower)."""
    allowed = CHAIR_RULINGS if kind == "chair" else RECHECK_OUTCOMES
    if outcome not in allowed:
        raise Refused("invalid_outcome", "裁定结果无效", [{"field": "outcome", "choices": allowed}])
    with db.atomic():
        hold, _ = ReviewHold.get_or_create(entry=entry.id, kind=kind, defaults={"opened_by": actor})
        ReviewHold.update(
            state="resolved",
            outcome=outcome,
            note=note[:2000],
            resolved_by=actor,
            resolved_at=utcnow(),
        ).where(ReviewHold.id == hold.id).execute()
        record(
            actor,
            f"review.{kind}.rule",
            hold,
            None,
            {"outcome": outcome, "note": note},
            entry.campaign_id,
        )
    return ReviewHold.get_by_id(hold.id)


def open_holds(entry_ids: list[int]) -> dict:
    """entry id → kinds still open (an open recheck, or a chair case never ruled on is
    judged by the board: see decisions)."""
    found: dict = {}
    for hold in ReviewHold.select().where(
        ReviewHold.entry.in_(entry_ids) & (ReviewHold.state == "open")
    ):
        found.setdefault(hold.entry_id, set()).add(hold.kind)
    return found
