"""The one scan engine for the door and the mailroom, with pretix's redeem semantics.

A code resolves to a (kind, object) through `KINDS`. A scan carries a client nonce and the
client's time. The first scan of an object is `redeemed`; the same nonce again answers the same
success and creates nothing; another nonce on a used object answers `already_redeemed` with the
first time and who scanned; `force` records an audited override instead.

It holds across any number of processes on SQLite and PostgreSQL without locks: the database's
unique indexes decide (`Redemption.first` admits one first scan per object, `nonce` one row per
scan), so the engine inserts first and, on IntegrityError, reads what won.
"""

import contextlib
import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from peewee import IntegrityError

from campaign.audit import record
from models import Redemption, db, utcnow

REDEEMED = "redeemed"
ALREADY_REDEEMED = "already_redeemed"
MAX_CODE = 512  # a URL around the code, at most


class UnknownCode(Exception):
    """No object of any kind (in this campaign) has this code."""


class ScanRefused(Exception):
    """The object exists but may not be redeemed without `force` (e.g. a cancelled ticket)."""

    def __init__(self, code: str, message: str, target: "Target"):
        super().__init__(code)
        self.code = code
        self.message = message
        self.target = target


@dataclass(frozen=True)
class Target:
    """What a code stands for, and what the scanner shows about it."""

    kind: str
    object_id: int
    campaign_id: int
    label: dict = field(default_factory=dict)
    refusal: tuple[str, str] | None = None  # (code, Chinese message), unless forced


@dataclass(frozen=True)
class Kind:
    """How one kind of code is looked up, and what a first redemption does to its object
    (inside the redemption's transaction), if anything beyond the redemption row itself."""

    resolve: Callable[[str], Target | None]
    on_redeemed: Callable[[Target, Redemption], None] | None = None


@dataclass(frozen=True)
class Answer:
    status: str  # redeemed | already_redeemed
    target: Target
    redemption: Redemption  # this scan's row, or the first one when already redeemed


def _kinds() -> dict[str, Kind]:
    """The registry, as a literal table (no import side effects)."""
    from campaign.mailin import rules as mailin
    from campaign.redeem import exchange

    return {
        "ticket": Kind(exchange.ticket_target),  # checked in = its first redemption
        "mailin": Kind(mailin.cover_target, mailin.received_by_scan),  # the package arrived
    }


def normalize(code: str) -> str:
    """The bare code from what a scanner read: trimmed, and the last path segment of a URL
    (ticket QR codes carry the ticket page's URL so a phone's camera opens it)."""
    code = code.strip()
    if "/" in code:
        code = code.rstrip("/").rsplit("/", 1)[-1]
    return code.split("?", 1)[0]


def resolve(code: str, campaign_id: int | None = None) -> Target:
    """The target of `code`, or UnknownCode (also for another campaign's object)."""
    bare = normalize(code)
    if bare and len(code) <= MAX_CODE and bare.isprintable():  # PostgreSQL refuses NUL
        for kind in _kinds().values():
            target = kind.resolve(bare)
            if target is not None and campaign_id in (None, target.campaign_id):
                return target
    raise UnknownCode(code)


def redeem(
    code: str,
    nonce: str,
    client_time: datetime.datetime | None,
    actor: str,
    force: bool = False,
    *,
    campaign_id: int | None = None,
    actor_name: str = "",
) -> Answer:
    """One scan: `redeemed` or `already_redeemed`; UnknownCode or ScanRefused otherwise.
    `client_time` is when the scan happened (offline scans arrive later); naive UTC."""
    target = resolve(code, campaign_id)
    if target.refusal and not force:
        replayed = _by_nonce(target, nonce)  # accepted before the refusal arose: same answer
        if replayed is None:
            raise ScanRefused(*target.refusal, target)
        return Answer(REDEEMED, target, replayed)
    scan = {
        "nonce": nonce,
        "scanned_at": client_time or utcnow(),
        "by": actor,
        "by_name": actor_name[:64],
    }
    row = _insert(target, scan, first=True, forced=bool(force and target.refusal))
    if row is None:
        row = _by_nonce(target, nonce)
    if row is None and force:
        row = _insert(target, scan, first=None, forced=True) or _by_nonce(target, nonce)
    if row is not None:
        return Answer(REDEEMED, target, row)
    return Answer(ALREADY_REDEEMED, target, _first(target))


def _insert(target: Target, scan: dict, first: bool | None, forced: bool) -> Redemption | None:
    """The new row, or None when a unique index refused it (someone redeemed first, or this
    nonce was recorded already). A plain first scan is one INSERT in autocommit, the check-in
    hot path; with an effect or an audit row, one transaction holds them all."""
    effect = _kinds()[target.kind].on_redeemed if first else None
    try:
        with db.atomic() if (effect or forced) else contextlib.nullcontext():
            row = Redemption.create(
                campaign=target.campaign_id,
                kind=target.kind,
                object_id=target.object_id,
                first=first,
                forced=forced,
                **scan,
            )
            if effect:
                effect(target, row)
            if forced:
                after = {"kind": target.kind, "object_id": target.object_id, "nonce": row.nonce}
                after["refusal"] = target.refusal[0] if target.refusal else "already_redeemed"
                record(row.by, "redeem.force", row, None, after, campaign=target.campaign_id)
            return row
    except IntegrityError:
        return None


def _by_nonce(target: Target, nonce: str) -> Redemption | None:
    return Redemption.get_or_none(
        (Redemption.kind == target.kind)
        & (Redemption.object_id == target.object_id)
        & (Redemption.nonce == nonce)
    )


def _first(target: Target) -> Redemption:
    return Redemption.get(
        (Redemption.kind == target.kind)
        & (Redemption.object_id == target.object_id)
        & (Redemption.first == True)  # noqa: E712 - SQL, not Python truthiness
    )


def redemptions(kind: str, object_ids) -> dict[int, list[Redemption]]:
    """Every accepted scan of these objects (an id list or a subquery), first one first:
    object id → its scans; objects never scanned are absent."""
    found: dict[int, list[Redemption]] = {}
    rows = Redemption.select().where(
        (Redemption.kind == kind) & Redemption.object_id.in_(object_ids)
    )
    for row in rows.order_by(Redemption.id):
        found.setdefault(row.object_id, []).append(row)
    return found


def first_scan(scans: list[Redemption]) -> Redemption | None:
    """The scan that redeemed (a forced scan of a refused code may be the first)."""
    return next((row for row in scans if row.first), None)


def redeem_batch(scans: list[dict], actor: str, *, campaign_id=None, actor_name="") -> list:
    """Offline scans, each answered on its own: an Answer, or the UnknownCode / ScanRefused it
    raised. Each scan is its own transaction, so one bad scan never loses the others."""
    answers = []
    for scan in scans:
        try:
            answers.append(
                redeem(
                    scan["code"],
                    scan["nonce"],
                    scan.get("datetime"),
                    actor,
                    bool(scan.get("force")),
                    campaign_id=campaign_id,
                    actor_name=actor_name,
                )
            )
        except (UnknownCode, ScanRefused) as refusal:
            answers.append(refusal)
    return answers
