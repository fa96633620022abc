"""Touches counted into `FunnelVisitor`: each visitor once per scope, with their first time.

Counting distinct visitors over a million raw touches takes most of a second on PostgreSQL;
reading this roll-up takes milliseconds (bench/funnel.py). A scope is the whole campaign,
a route, a department or a channel; a visitor is a WeChat user (`u<id>`) or an anonymous
browser (`v<cookie>`). Exact under concurrency: one roller at a time (a PostgreSQL advisory
lock, SQLite's BEGIN IMMEDIATE) claims a batch of touches by id, marks them `rolled` and
files their visitors in the same transaction, set-based in SQL, so every touch is counted
exactly once whoever inserted it and whenever it committed. A visitor already filed keeps
the earlier first time, so touches may arrive out of order.

The same transaction keeps the counters the funnels read (`FunnelCount`, `FunnelSlot`): the
batch's visitors are first set beside what is already filed (a temporary table), so the
roller knows which are new (one more scan, and login for a user) and which moved earlier
(their quarter hour moves); under the one-roller lock the counters stay exact.
"""

import contextlib
import operator
from functools import reduce

from peewee import (
    EXCLUDED,
    JOIN,
    SQL,
    BooleanField,
    Case,
    CharField,
    DateTimeField,
    IntegerField,
    Join,
    Model,
    PostgresqlDatabase,
    Select,
    Value,
    fn,
)

from models import (
    Channel,
    FunnelCount,
    FunnelSlot,
    FunnelVisitor,
    Touch,
    db,
    write_transaction,
)

BATCH = 20_000
ROLLER_LOCK = 7_301_001  # pg_advisory_xact_lock key: one roller at a time
KEY = [
    FunnelVisitor.campaign,
    FunnelVisitor.level,
    FunnelVisitor.scope,
    FunnelVisitor.is_user,
    FunnelVisitor.visitor,
]
FIELDS = [*KEY, FunnelVisitor.first_at]
SLOT_LEVELS = ("all", "route")  # the scopes big enough to need per-slot counts
SLOT_SECONDS = 900


class Batch(Model):
    """The visitors of the batch being filed, with the first time already filed (if any).
    A temporary table: each connection has its own, and nothing of it is logged."""

    campaign_id = IntegerField()
    level = CharField(max_length=8)
    scope = CharField(max_length=32)
    is_user = BooleanField()
    visitor = CharField(max_length=80)
    first_at = DateTimeField()
    filed_at = DateTimeField(null=True)

    class Meta:
        database = db
        table_name = "funnel_batch"
        temporary = True
        primary_key = False


def roll_up(batch: int = BATCH) -> int:
    """Claim up to `batch` unrolled touches and file their visitors; return how many."""
    if not pending_exists():  # a cheap read first: no lock when there is nothing to do
        return 0
    with _one_roller():
        ids = [
            row[0]
            for row in Touch.select(Touch.id)
            .where(Touch.rolled == False)  # noqa: E712
            .order_by(Touch.id)
            .limit(batch)
            .tuples()
        ]
        if not ids:
            return 0
        Touch.update(rolled=True).where(Touch.id.in_(ids)).execute()
        Batch.create_table(safe=True)
        Batch.delete().execute()
        for query in _visitor_queries(ids):
            Batch.insert_from(_beside_filed(query), list(Batch._meta.sorted_fields)).execute()
        _file_visitors()
        _count_new_visitors()
        _move_slots()
        Batch.delete().execute()
    return len(ids)


def _visitor_queries(ids: list[int]) -> list:
    """For each level, a SELECT of (campaign, level, scope, is_user, visitor, first time) over
    the claimed touches, one row per visitor and scope."""
    visitor = Case(
        None,
        [(Touch.user.is_null(False), Value("u").concat(Touch.user.cast("TEXT")))],
        Value("v").concat(Touch.visitor),
    )
    is_user = Touch.user.is_null(False)
    scopes = {
        "all": (Value(""), None),
        "route": (Channel.route, Touch.channel.is_null(False)),
        "dept": (Channel.department.cast("TEXT"), Channel.department.is_null(False)),
        "channel": (Touch.channel.cast("TEXT"), Touch.channel.is_null(False)),
    }
    queries = []
    for level, (scope, condition) in scopes.items():
        where = Touch.id.in_(ids) & (Touch.user.is_null(False) | Touch.visitor.is_null(False))
        if condition is not None:
            where &= condition
        query = (
            Touch.select(
                Touch.campaign.alias("campaign_id"),
                Value(level).alias("level"),
                scope.alias("scope"),
                is_user.alias("is_user"),
                visitor.alias("visitor"),
                fn.MIN(Touch.at).alias("first_at"),
            )
            .join(Channel, JOIN.LEFT_OUTER, on=(Channel.id == Touch.channel))
            .where(where)
            .group_by(Touch.campaign, *([] if level == "all" else [scope]), is_user, visitor)
        )
        queries.append(query)
    return queries


@contextlib.contextmanager
def _one_roller():
    """A write transaction that no other roll-up or recount runs beside: on PostgreSQL an
    advisory lock; SQLite's IMMEDIATE lock already is one."""
    with write_transaction():
        if isinstance(db.obj, PostgresqlDatabase):
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (ROLLER_LOCK,))
        yield


def _beside_filed(query):
    """The batch's visitors of one level that are new or earlier than filed, with the filed
    first time (NULL for a new one)."""
    batch = query.alias("batch")
    filed = FunnelVisitor.alias("filed")
    same = reduce(operator.and_, [getattr(filed, f.name) == getattr(batch.c, f.column_name)
                                  for f in KEY])  # fmt: skip
    return Select(
        [Join(batch, filed, JOIN.LEFT_OUTER, on=same)],
        [*[getattr(batch.c, f.column_name) for f in FIELDS], filed.first_at],
    ).where(filed.id.is_null() | (batch.c.first_at < filed.first_at))


def _file_visitors() -> None:
    """New visitors inserted, earlier first times moved (every batch row is one or the other)."""
    rows = Batch.select(*[getattr(Batch, f.column_name) for f in FIELDS]).where(SQL("1 = 1"))
    FunnelVisitor.insert_from(rows, FIELDS).on_conflict(
        conflict_target=KEY, update={FunnelVisitor.first_at: EXCLUDED.first_at}
    ).execute()


def _count_new_visitors() -> None:
    scope = [Batch.campaign_id, Batch.level, Batch.scope]
    new = (
        Batch.select(*scope, fn.COUNT(SQL("*")), fn.SUM(user_flag(Batch.is_user)))
        .where(Batch.filed_at.is_null())
        .group_by(*scope)
    )
    _add_counts(FunnelCount, [FunnelCount.campaign, FunnelCount.level, FunnelCount.scope], new)


def _add_counts(model, key: list, rows) -> None:
    """Add `rows` (the key's columns, scans, logins) to `model`'s counters, creating the
    ones not there yet: FunnelCount and FunnelSlot are kept the same way."""
    model.insert_from(rows, [*key, model.scans, model.logins]).on_conflict(
        conflict_target=key,
        update={
            model.scans: model.scans + EXCLUDED.scans,
            model.logins: model.logins + EXCLUDED.logins,
        },
    ).execute()


def _move_slots() -> None:
    """One more visitor in the slot of each new or moved first time, one fewer in the slot a
    moved one left; summed per slot before touching `FunnelSlot`."""
    scope = [Batch.campaign_id, Batch.level, Batch.scope]
    big = Batch.level.in_(SLOT_LEVELS)
    arrived = Batch.select(
        *scope, slot_of(Batch.first_at).alias("slot"), SQL("1").alias("scans"),
        user_flag(Batch.is_user).alias("logins"),
    ).where(big)  # fmt: skip
    left = Batch.select(
        *scope, slot_of(Batch.filed_at), SQL("-1"), user_flag(Batch.is_user, -1)
    ).where(big & Batch.filed_at.is_null(False))  # fmt: skip
    deltas = arrived.union_all(left).alias("deltas")
    key = [deltas.c.campaign_id, deltas.c.level, deltas.c.scope, deltas.c.slot]
    summed = (
        Select([deltas], [*key, fn.SUM(deltas.c.scans), fn.SUM(deltas.c.logins)])
        .where(SQL("1 = 1"))
        .group_by(*key)
        .having((fn.SUM(deltas.c.scans) != 0) | (fn.SUM(deltas.c.logins) != 0))
    )
    key_fields = [FunnelSlot.campaign, FunnelSlot.level, FunnelSlot.scope, FunnelSlot.slot]
    _add_counts(FunnelSlot, key_fields, summed)


def slot_of(column):
    """The quarter hour (UTC) of a naive-UTC timestamp, counted from 1970, in SQL."""
    if isinstance(db.obj, PostgresqlDatabase):
        seconds = fn.date_part("epoch", column)
        return fn.FLOOR(seconds / SLOT_SECONDS).cast("BIGINT")
    return fn.strftime("%s", column).cast("INTEGER") / SLOT_SECONDS


def user_flag(column, value: int = 1):
    """`value` for a WeChat user, 0 for an anonymous visitor, in SQL (summed: logins)."""
    return Case(None, [(column == True, value)], 0)  # noqa: E712


def recount() -> None:
    """Count `FunnelCount` and `FunnelSlot` again from the filed visitors, under the roller's
    lock: after touches were filed by code that did not keep them (a worker of the release
    before migration 0014 rolling up before its restart). Exact whenever it runs."""
    scope = [FunnelVisitor.campaign, FunnelVisitor.level, FunnelVisitor.scope]
    counted = [fn.COUNT(SQL("*")), fn.SUM(user_flag(FunnelVisitor.is_user))]
    with _one_roller():
        FunnelCount.delete().execute()
        FunnelSlot.delete().execute()
        totals = FunnelVisitor.select(*scope, *counted).group_by(*scope)
        FunnelCount.insert_from(
            totals, [FunnelCount.campaign, FunnelCount.level, FunnelCount.scope,
                     FunnelCount.scans, FunnelCount.logins],
        ).execute()  # fmt: skip
        slot = slot_of(FunnelVisitor.first_at)
        slots = (
            FunnelVisitor.select(*scope, slot, *counted)
            .where(FunnelVisitor.level.in_(SLOT_LEVELS))
            .group_by(*scope, slot)
        )
        FunnelSlot.insert_from(
            slots, [FunnelSlot.campaign, FunnelSlot.level, FunnelSlot.scope, FunnelSlot.slot,
                    FunnelSlot.scans, FunnelSlot.logins],
        ).execute()  # fmt: skip


def roll_up_everything() -> int:
    """Roll up until nothing is left, and fold the day counters' changes
    (`funnel_days.fold`); return how many touches were filed."""
    from campaign.channels.funnel_days import fold

    total = 0
    while counted := roll_up():
        total += counted
    fold()
    return total


def pending_exists() -> bool:
    return Touch.select().where(Touch.rolled == False).exists()  # noqa: E712


def pending() -> int:
    """Touches not yet counted into the funnel."""
    return Touch.select().where(Touch.rolled == False).count()  # noqa: E712
