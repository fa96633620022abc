"""The entry status machine: the only place an entry's status changes (DESIGN §4).

A move is legal only if it is in `TRANSITIONS`. The update is conditional on the status
the caller saw, so two concurrent moves cannot both win, and every move leaves a
`StatusChange` row and an audit row in the same transaction. From that row the database
raises the entry's highest rung and its first times at each rung (`Entry.rung`,
`reached_1` …, triggers of migration 0014), which the funnels count.
"""

from campaign.audit import record
from models import Entry, StatusChange, db, utcnow

DRAFT = "draft"
SUBMITTED = "submitted"
ENDORSED = "endorsed"
RETURNED = "returned"
UNDER_REVIEW = "under_review"
SHORTLISTED = "shortlisted"
AWARDED = "awarded"
NOT_SELECTED = "not_selected"
WITHDRAWN = "withdrawn"

TRANSITIONS = {
    DRAFT: {SUBMITTED, WITHDRAWN},
    SUBMITTED: {ENDORSED, RETURNED, UNDER_REVIEW, WITHDRAWN},
    ENDORSED: {UNDER_REVIEW, RETURNED, WITHDRAWN, SUBMITTED},  # SUBMITTED: edited, endorse again
    RETURNED: {SUBMITTED, WITHDRAWN},
    UNDER_REVIEW: {SHORTLISTED, NOT_SELECTED},
    SHORTLISTED: {AWARDED, NOT_SELECTED, UNDER_REVIEW},
    AWARDED: {NOT_SELECTED},
    NOT_SELECTED: {SHORTLISTED, AWARDED},
    WITHDRAWN: {DRAFT, SUBMITTED},
}

STATUSES = tuple(TRANSITIONS)

LABELS = {
    DRAFT: "草稿",
    SUBMITTED: "已提交",
    ENDORSED: "已推荐",
    RETURNED: "已退回",
    UNDER_REVIEW: "评审中",
    SHORTLISTED: "入围",
    AWARDED: "入选",
    NOT_SELECTED: "未入选",
    WITHDRAWN: "已撤回",
}


class IllegalTransition(Exception):
    """The move is not in the status machine, or someone else moved the entry first."""

    def __init__(self, entry_id: int, current: str, target: str):
        super().__init__(f"entry {entry_id}: {current} → {target} is not allowed")
        self.current = current
        self.target = target


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, ())


def move(entry: Entry, target: str, actor: str, note: str = "", **changes) -> Entry:
    """Move `entry` to `target` (with optional field `changes`), or raise IllegalTransition."""
    current = entry.status
    if not can_move(current, target):
        raise IllegalTransition(entry.id, current, target)
    now = utcnow()
    values = {"status": target, "updated_at": now, **changes}
    with db.atomic():
        moved = (
            Entry.update(**values)
            .where((Entry.id == entry.id) & (Entry.status == current))
            .execute()
        )
        if not moved:
            fresh = Entry.get_by_id(entry.id).status
            raise IllegalTransition(entry.id, fresh, target)
        StatusChange.create(
            entry=entry.id, from_status=current, to_status=target, actor=actor, note=note, at=now
        )
        record(
            actor,
            "entry.status",
            entry,
            before={"status": current},
            after={"status": target, "note": note},
            campaign=entry.campaign_id,
        )
    for key, value in values.items():
        setattr(entry, key, value)
    return entry
