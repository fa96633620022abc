"""Touches counted into `FunnelVisitor`: each visitor once per scope, with their first time.

Counting distinct visitors over a million raw touches takes most of a second on PostgreSQL;
reading this roll-up takes milliseconds (bench/funnel.py). A scope is the whole campaign,
a route, a department or a channel; a visitor is a WeChat user (`u<id>`) or an anonymous
browser (`v<cookie>`). Exact under concurrency: one roller at a time (a PostgreSQL advisory
lock, SQLite's BEGIN IMMEDIATE) claims a batch of touches by id, marks them `rolled` and
files their visitors in the same transaction, set-based in SQL, so every touch is counted
exactly once whoever inserted it and whenever it committed. A visitor already filed keeps
the earlier first time (an upsert with LEAST), so touches may arrive out of order.
"""

from peewee import EXCLUDED, JOIN, Case, PostgresqlDatabase, Value, fn

from models import Channel, FunnelVisitor, Touch, db, write_transaction

BATCH = 20_000
ROLLER_LOCK = 7_301_001  # pg_advisory_xact_lock key: one roller at a time
FIELDS = [
    FunnelVisitor.campaign,
    FunnelVisitor.level,
    FunnelVisitor.scope,
    FunnelVisitor.is_user,
    FunnelVisitor.visitor,
    FunnelVisitor.first_at,
]


def roll_up(batch: int = BATCH) -> int:
    """Claim up to `batch` unrolled touches and file their visitors; return how many."""
    if not pending_exists():  # a cheap read first: no lock when there is nothing to do
        return 0
    postgres = isinstance(db.obj, PostgresqlDatabase)
    with write_transaction():
        if postgres:  # one roller at a time; SQLite's IMMEDIATE lock already is one
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (ROLLER_LOCK,))
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
        least = fn.LEAST if postgres else fn.MIN
        for query in _visitor_queries(ids):
            FunnelVisitor.insert_from(query, FIELDS).on_conflict(
                conflict_target=[
                    FunnelVisitor.campaign,
                    FunnelVisitor.level,
                    FunnelVisitor.scope,
                    FunnelVisitor.is_user,
                    FunnelVisitor.visitor,
                ],
                update={FunnelVisitor.first_at: least(FunnelVisitor.first_at, EXCLUDED.first_at)},
                where=EXCLUDED.first_at < FunnelVisitor.first_at,  # else leave the row alone
            ).execute()
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
            Touch.select(Touch.campaign, Value(level), scope, is_user, visitor, fn.MIN(Touch.at))
            .join(Channel, JOIN.LEFT_OUTER, on=(Channel.id == Touch.channel))
            .where(where)
            .group_by(Touch.campaign, *([] if level == "all" else [scope]), is_user, visitor)
        )
        queries.append(query)
    return queries


def roll_up_everything() -> int:
    """Roll up until nothing is left; return how many touches were filed."""
    total = 0
    while counted := roll_up():
        total += counted
    return total


def pending_exists() -> bool:
    return Touch.select().where(Touch.rolled == False).exists()  # noqa: E712


def pending() -> int:
    """Touches not yet counted into the funnel."""
    return Touch.select().where(Touch.rolled == False).count()  # noqa: E712
