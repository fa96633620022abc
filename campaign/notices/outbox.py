"""The outbox: one `Delivery` row per notice and person, moved through its states only by
conditional updates, so a job that runs twice, two workers, or a sweeper racing a slow worker
can never send a row twice. The database is the record; Redis only carries jobs.

    pending ──(way chosen)──▶ pending ──claim──▶ sending ──▶ sent | failed | unknown
       └──(no consent)──▶ no_consent   ▲            │
                                       └────────────┘ transient error (backoff)
    unknown ──(send-result event)──▶ sent | failed
    unknown ──(organizer re-sends)──▶ pending

A batch's ways are chosen (and one-time consents spent) in one transaction before its rows
are claimed one by one; the way is fixed on the row, so every later claim goes the same way
and spends nothing. Only the claim makes a send possible, and at most one row per worker is
ever `sending`: a killed worker leaves at most one `unknown`.

`lease_until` says until when some job answers for a row: on `sending` rows the claim's
lease (expired → `unknown`, because the request may have reached WeChat); on `pending` rows
the reservation of the send job that carries them (expired → the sweeper re-enqueues them).
Rows are split into slots by `id % slots`; one chain of send jobs works each slot.
"""

import datetime
import random
from collections import namedtuple

from peewee import Case, fn

from models import (
    Delivery,
    MessageTemplate,
    Notice,
    Prepared,
    db,
    execute_together,
    insert_new_rows,
    refresh_statistics,
    utcnow,
)

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
NO_CONSENT = "no_consent"
UNKNOWN = "unknown"
OPEN = (PENDING, SENDING)
FINAL = (SENT, FAILED, NO_CONSENT, UNKNOWN)

INSERT_BATCH = 1000
RETRY_BASE = 2.0  # seconds; full jitter: uniform(0, min(cap, base * 2**attempts))
RETRY_CAP = 300.0
MAX_ATTEMPTS = 8

Candidate = namedtuple("Candidate", "id user_id attempts channel")


def _seconds(value: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=value)


def add_deliveries(notice_id: int, user_ids: list[int]) -> int:
    """Insert one pending row per user (existing rows are left alone); return the notice's
    row count. Batches in their own transactions, so a crash keeps what was written."""
    now = utcnow()
    fields = [Delivery.notice, Delivery.user, Delivery.not_before, Delivery.updated_at]
    for start in range(0, len(user_ids), INSERT_BATCH):
        rows = [
            (notice_id, user_id, now, now) for user_id in user_ids[start : start + INSERT_BATCH]
        ]
        with db.atomic():
            insert_new_rows(fields, rows)
    refresh_statistics(Delivery)
    return Delivery.select().where(Delivery.notice == notice_id).count()


def _slot(slots: int):
    """`id % slots`, spelled so that SQLite and PostgreSQL (integer division) agree and no
    `%` reaches the driver (peewee's `%` is LIKE; psycopg2 reads `%` as a placeholder)."""
    return Delivery.id - (Delivery.id / slots) * slots


def _in_slot(notice_id: int, slot: int, slots: int):
    return (Delivery.notice == notice_id) & (_slot(slots) == slot)


def reserve(
    notice_id: int, slot: int, slots: int, size: int, hold: float, start: int = 0
) -> list[int]:
    """The next `size` due pending rows of a slot from row id `start` on, reserved for `hold`
    seconds; when none is left there, the slot's due rows from its beginning (retries that
    came due after the chain went past them).

    A chain passes the first id of the batch it just worked as `start`, so each reservation
    reads a few hundred rows by primary key wherever the chain is. From the beginning every
    time, PostgreSQL (on statistics from before the sends) walked past every row already
    sent: 42 ms a reservation at 90% of a 100,000-row notice instead of 0.1 ms."""
    ids = _due_rows(notice_id, slot, slots, size, start)
    if not ids and start:
        ids = _due_rows(notice_id, slot, slots, size, 0)
    renew(ids, hold)
    return ids


def _due_rows(notice_id: int, slot: int, slots: int, size: int, start: int) -> list[int]:
    return [
        row_id
        for (row_id,) in Delivery.select(Delivery.id)
        .where(
            _in_slot(notice_id, slot, slots)
            & (Delivery.id >= start)
            & (Delivery.state == PENDING)
            & (Delivery.not_before <= utcnow())
        )
        .order_by(Delivery.id)
        .limit(size)
        .tuples()
    ]


def renew(ids: list[int], hold: float) -> None:
    """Extend the reservation of the rows among `ids` that are still pending."""
    if ids:
        Delivery.update(lease_until=utcnow() + _seconds(hold)).where(
            Delivery.id.in_(ids) & (Delivery.state == PENDING)
        ).execute()


def candidates(ids: list[int]) -> list[Candidate]:
    """The rows among `ids` that are pending and due, in id order."""
    return [
        Candidate(*row)
        for row in Delivery.select(Delivery.id, Delivery.user, Delivery.attempts, Delivery.channel)
        .where(
            Delivery.id.in_(ids) & (Delivery.state == PENDING) & (Delivery.not_before <= utcnow())
        )
        .order_by(Delivery.id)
        .tuples()
    ]


def _still_sending(notice_id: int):
    """The notice is sending, as a condition on nothing else: an uncorrelated EXISTS that
    PostgreSQL evaluates once. (As `notice_id IN (…)` it made the planner reach a claimed row
    through the (notice, state) index, reading every pending row of the notice when the
    table's statistics were young: 2.1 ms a claim instead of 0.04 ms by primary key.)"""
    return fn.EXISTS(
        Notice.select(Notice.id).where((Notice.id == notice_id) & (Notice.state == "sending"))
    )


def lock_unchosen(notice_id: int, ids: list[int]) -> list[int]:
    """Of `ids`, the pending rows whose way is not chosen yet, locked until the transaction
    ends (SQLite: the write lock; PostgreSQL: the rows' locks, so a second worker choosing the
    same rows waits, then finds their way chosen and leaves them)."""
    if not ids:
        return []
    locked = (
        Delivery.update(updated_at=utcnow())
        .where(
            Delivery.id.in_(ids)
            & (Delivery.state == PENDING)
            & (Delivery.channel == "")
            & _still_sending(notice_id)
        )
        .returning(Delivery.id)
        .tuples()
        .execute()
    )
    return sorted(row_id for (row_id,) in locked)


def fix_ways(ids: list[int], channel: str) -> None:
    """Record the way chosen for rows locked by `lock_unchosen` (their consents are spent in
    the same transaction)."""
    if ids:
        Delivery.update(channel=channel).where(Delivery.id.in_(ids)).execute()


def settle_unreachable(ids: list[int], reason: str) -> None:
    """pending → no_consent, for rows locked by `lock_unchosen` that have no way."""
    if ids:
        Delivery.update(
            state=NO_CONSENT,
            reason=reason,
            attempts=Delivery.attempts + 1,
            lease_until=None,
            updated_at=utcnow(),
        ).where(Delivery.id.in_(ids)).execute()


def claim(notice_id: int, row: Candidate, lease: float, sent: list | None = None) -> bool:
    """pending → sending, only if nobody moved the row since it was read and the notice is
    still sending. The single conditional UPDATE that makes every re-run harmless.

    `sent` holds earlier sends, (row id, attempt, msgid), not yet recorded: they are
    recorded in the same commit (and on PostgreSQL the same round trip), then cleared."""
    now = utcnow()
    statements = [_SENT.statement(*_sent_values(*done, now)) for done in sent or ()]
    statements.append(
        _CLAIM.statement(row.id, row.attempts, notice_id, now + _seconds(lease), now, now)
    )
    claimed = bool(execute_together(statements))
    if sent:
        sent.clear()
    return claimed


def _claim_query(row_id: int, attempts: int, notice_id: int, lease_until, now, due):
    return Delivery.update(
        state=SENDING,
        attempts=Delivery.attempts + 1,
        lease_until=lease_until,
        updated_at=now,
    ).where(
        (Delivery.id == row_id)
        & (Delivery.state == PENDING)
        & (Delivery.attempts == attempts)
        & (Delivery.not_before <= due)
        & _still_sending(notice_id)
    )


def _settle(row_id: int, attempt: int, **changes) -> bool:
    """Record an outcome of the claim numbered `attempt`. An `unknown` the sweeper wrote
    meanwhile is overwritten, because the worker knows better; a later claim is not."""
    return bool(
        Delivery.update(updated_at=utcnow(), **changes).where(_of_claim(row_id, attempt)).execute()
    )


def _of_claim(row_id: int, attempt: int):
    """The row, if its latest claim is still the one numbered `attempt`."""
    return (
        (Delivery.id == row_id)
        & (Delivery.attempts == attempt)
        & Delivery.state.in_((SENDING, UNKNOWN))
    )


def settle_sent(row_id: int, attempt: int, msgid) -> bool:
    """`_settle` to sent, once per message: its SQL is prepared."""
    return bool(_SENT.execute(*_sent_values(row_id, attempt, msgid, utcnow())))


def _sent_values(row_id: int, attempt: int, msgid, now) -> tuple:
    return row_id, attempt, str(msgid) if msgid is not None else None, now, now


def _sent_query(row_id: int, attempt: int, msgid, sent_at, now):
    return Delivery.update(
        updated_at=now,
        state=SENT,
        msgid=msgid,
        sent_at=sent_at,
        errcode=None,
        reason="",
        lease_until=None,
    ).where(_of_claim(row_id, attempt))


# Samples: distinct objects that reach the SQL unchanged (see models.Prepared).
_CLAIM = Prepared(
    _claim_query, 10**12 + 1, 10**12 + 2, 10**12 + 3,
    datetime.datetime(1900, 1, 1, 0, 0, 1), datetime.datetime(1900, 1, 1, 0, 0, 2),
    datetime.datetime(1900, 1, 1, 0, 0, 3),
)  # fmt: skip
_SENT = Prepared(
    _sent_query, 10**12 + 4, 10**12 + 5, "prepared-sample:msgid",
    datetime.datetime(1900, 1, 1, 0, 0, 4), datetime.datetime(1900, 1, 1, 0, 0, 5),
)  # fmt: skip


def settle_final(row_id: int, attempt: int, state: str, reason: str, errcode=None) -> bool:
    """A final outcome other than sent: failed, no_consent or unknown, with its reason."""
    return _settle(row_id, attempt, state=state, reason=reason, errcode=errcode, lease_until=None)


def settle_retry(row_id: int, attempt: int, reason: str, errcode, hold: float) -> bool:
    """Not sent, worth another try later: back to pending after a jittered backoff, or failed
    when the attempts are used up. The reservation lasts until then, so the slot's chain (or
    its scheduled continuation) stays answerable for the row."""
    if attempt >= MAX_ATTEMPTS:
        return settle_final(row_id, attempt, FAILED, "retries_exhausted", errcode)
    delay = random.uniform(0, min(RETRY_CAP, RETRY_BASE * 2**attempt))
    not_before = utcnow() + _seconds(delay)
    return _settle(
        row_id,
        attempt,
        state=PENDING,
        reason=reason,
        errcode=errcode,
        not_before=not_before,
        lease_until=not_before + _seconds(hold),
    )


def settle_unclaimed(row_id: int, attempt: int) -> bool:
    """Claimed but stopped before anything was sent (the notice was paused): pending again."""
    return _settle(row_id, attempt, state=PENDING, lease_until=None)


def expire_leases() -> int:
    """`sending` rows whose worker went silent become `unknown`: the request may have left."""
    now = utcnow()
    return (
        Delivery.update(state=UNKNOWN, reason="lease_expired", updated_at=now, lease_until=None)
        .where((Delivery.state == SENDING) & (Delivery.lease_until < now))
        .execute()
    )


def dead_slots(notice_id: int, slots: int) -> list[int]:
    """Slots with due rows that no job answers for: the job was lost, or Redis emptied."""
    now = utcnow()
    slot = _slot(slots)
    alive = fn.MAX(Case(None, [(Delivery.lease_until >= now, 1)], 0))
    stuck = fn.MAX(
        Case(
            None,
            [
                (
                    (Delivery.state == PENDING)
                    & (Delivery.not_before <= now)
                    & (Delivery.lease_until.is_null() | (Delivery.lease_until < now)),
                    1,
                )
            ],
            0,
        )
    )
    rows = (
        Delivery.select(slot, alive, stuck)
        .where((Delivery.notice == notice_id) & Delivery.state.in_(OPEN))
        .group_by(slot)
        .tuples()
    )
    return sorted(int(number) for number, is_alive, is_stuck in rows if is_stuck and not is_alive)


def next_due(notice_id: int, slot: int, slots: int) -> datetime.datetime | None:
    """When the slot's earliest deferred row becomes due, if it has one."""
    return (
        Delivery.select(fn.MIN(Delivery.not_before))
        .where(_in_slot(notice_id, slot, slots) & (Delivery.state == PENDING))
        .scalar()
    )


def requeue_unknown(notice_id: int) -> int:
    """An organizer chose to send `unknown` rows again: back to pending (no new consent is
    spent; WeChat answers 43101 if the first try did arrive and used the user's one credit)."""
    now = utcnow()
    return (
        Delivery.update(
            state=PENDING, reason="resent", not_before=now, lease_until=None, updated_at=now
        )
        .where((Delivery.notice == notice_id) & (Delivery.state == UNKNOWN))
        .execute()
    )


def progress(notice_id: int) -> dict:
    """Counts by state, reasons of the non-sent, ways of the sent, and the send rate."""
    counts = {state: 0 for state in (*OPEN, *FINAL)}
    reasons: dict[str, dict[str, int]] = {FAILED: {}, NO_CONSENT: {}, UNKNOWN: {}}
    channels: dict[str, int] = {}
    rows = (
        Delivery.select(Delivery.state, Delivery.reason, Delivery.channel, fn.COUNT(Delivery.id))
        .where(Delivery.notice == notice_id)
        .group_by(Delivery.state, Delivery.reason, Delivery.channel)
        .tuples()
    )
    for state, reason, channel, count in rows:
        counts[state] = counts.get(state, 0) + count
        if state in reasons:
            reasons[state][reason or state] = reasons[state].get(reason or state, 0) + count
        if state == SENT:
            channels[channel] = channels.get(channel, 0) + count
    window = 60
    recent = (
        Delivery.select()
        .where(
            (Delivery.notice == notice_id)
            & (Delivery.state == SENT)
            & (Delivery.sent_at >= utcnow() - _seconds(window))
        )
        .count()
    )
    return {
        "total": sum(counts.values()),
        **counts,
        "remaining": counts[PENDING] + counts[SENDING],
        "failed_by_reason": reasons[FAILED],
        "no_consent_by_reason": reasons[NO_CONSENT],
        "unknown_by_reason": reasons[UNKNOWN],
        "sent_by_channel": channels,
        "rate_per_second": round(recent / window, 2),
    }


def reconcile(
    channel: str, user_ids: list[int], msgid, delivered: bool, reason: str, template_id=None
):
    """A send-result event from WeChat: settle the delivery it reports on. By msgid when the
    send's answer came back; otherwise the person's oldest `unknown` row sent that way (and
    with that template, when the event names it) — the answer was lost, but WeChat's event
    proves the message went out, or that it failed."""
    state, why = (SENT, "") if delivered else (FAILED, reason)
    known = Delivery.get_or_none((Delivery.msgid == str(msgid)) & (Delivery.channel == channel))
    if known is not None:
        if not delivered and known.state == SENT:
            Delivery.update(state=state, reason=why, updated_at=utcnow()).where(
                Delivery.id == known.id
            ).execute()
        return known.id
    lost = (
        Delivery.select(Delivery.id)
        .join(Notice)
        .join(MessageTemplate, on=(Notice.template == MessageTemplate.id))
        .where(
            (Delivery.channel == channel)
            & (Delivery.state == UNKNOWN)
            & Delivery.user.in_(user_ids)
        )
        .order_by(Delivery.updated_at)
    )
    if template_id is not None:
        lost = lost.where(MessageTemplate.template_id == str(template_id))
    lost = lost.first()
    if lost is None:
        return None
    now = utcnow()
    Delivery.update(
        state=state,
        reason=why,
        msgid=str(msgid),
        sent_at=now if delivered else None,
        updated_at=now,
    ).where((Delivery.id == lost.id) & (Delivery.state == UNKNOWN)).execute()
    return lost.id


def deliveries_page(notice_id: int, state: str | None, after: int, limit: int) -> list[Delivery]:
    """Rows of a notice for the organizer, in id order after `after`."""
    query = (
        Delivery.select()
        .where((Delivery.notice == notice_id) & (Delivery.id > after))
        .order_by(Delivery.id)
        .limit(limit)
    )
    if state:
        query = query.where(Delivery.state == state)
    return list(query)
