"""Day counters of units, drafts and the ladder per route (`FunnelDay`), for the daily series
of the whole campaign and of each route.

Counting 100,000 entries by local day, six times over (drafts and five rungs), took most of
the campaign's daily series; these counters hold a few thousand rows. Database triggers on
unit and entry (migration 0014) append every change as +1/−1 to `FunnelDayChange` in the
writer's own transaction: writers only insert, so a busy deadline day never queues on one
counter row. `fold` adds the changes into `FunnelDay` (the roll-up job does it every 30 s);
a read adds both, so it is exact whether or not they have been folded.

Days are the campaign's local days by `Campaign.day_offset`; `rebuild` recounts a campaign
from its units and entries (when that offset changes, and in tests against a recount).
"""

import datetime
from zoneinfo import ZoneInfo

from peewee import SQL, PostgresqlDatabase, Select, Value, fn

from models import Campaign, Entry, FunnelDay, FunnelDayChange, Unit, db, write_transaction

# (step, model, route column, time column) of every counted step.
COUNTED = (
    ("units", Unit, Unit.owner_route, Unit.created_at),
    ("drafts", Entry, Entry.route, Entry.created_at),
    ("submitted", Entry, Entry.route, Entry.reached_1),
    ("endorsed", Entry, Entry.route, Entry.reached_2),
    ("under_review", Entry, Entry.route, Entry.reached_3),
    ("shortlisted", Entry, Entry.route, Entry.reached_4),
    ("awarded", Entry, Entry.route, Entry.reached_5),
)


def offset_minutes(timezone: str, at: datetime.datetime) -> int:
    """Minutes east of UTC in `timezone` at the naive-UTC moment `at`."""
    local = at.replace(tzinfo=datetime.UTC).astimezone(ZoneInfo(timezone))
    return int(local.utcoffset().total_seconds() // 60)


def day_counts(campaign: Campaign, route: str | None = None) -> list[tuple]:
    """(step, local day, count) of the campaign, or of one route; days with a count only."""
    return _summed(campaign, "step", None if route is None else ("route", route))


def route_counts(campaign: Campaign, step: str) -> list[tuple]:
    """(route, local day, count) of one step, every route at once."""
    return _summed(campaign, "route", ("step", step))


def _summed(campaign: Campaign, by: str, only: tuple | None) -> list[tuple]:
    """Counters and unfolded changes added up per (`by`, day), in one statement (so a fold
    running meanwhile is seen wholly or not at all); days that add up to nothing left out
    (the only entry of a day moved to another route or day)."""
    parts = []
    for model in (FunnelDay, FunnelDayChange):
        query = model.select(getattr(model, by), model.day, model.n)
        query = query.where(model.campaign == campaign)
        if only is not None:
            query = query.where(getattr(model, only[0]) == only[1])
        parts.append(query)
    both = parts[0].union_all(parts[1]).alias("counts")
    key, total = getattr(both.c, by), fn.SUM(both.c.n)
    query = Select([both], [key, both.c.day, total]).group_by(key, both.c.day).having(total > 0)
    query = query.bind(db)
    return [(name, _as_date(day), int(count)) for name, day, count in query.tuples()]


def fold() -> int:
    """Add the appended changes into `FunnelDay`; return how many were folded. Exact with any
    number of writers and folders: PostgreSQL takes and adds the rows in one statement;
    SQLite's IMMEDIATE transaction excludes every other writer."""
    columns = "campaign_id, route, step, day"
    add = f"ON CONFLICT ({columns}) DO UPDATE SET n = funnel_day.n + EXCLUDED.n"
    if isinstance(db.obj, PostgresqlDatabase):
        cursor = db.execute_sql(
            f"WITH taken AS (DELETE FROM funnel_day_change RETURNING {columns}, n), "
            f"folded AS (INSERT INTO funnel_day ({columns}, n) "
            f"SELECT {columns}, SUM(n) FROM taken GROUP BY {columns} {add} RETURNING 1) "
            "SELECT COUNT(*) FROM taken"
        )
        return cursor.fetchone()[0]
    with write_transaction():
        taken = FunnelDayChange.select().count()
        if taken:
            db.execute_sql(
                f"INSERT INTO funnel_day ({columns}, n) SELECT {columns}, SUM(n) "
                f"FROM funnel_day_change WHERE 1 = 1 GROUP BY {columns} {add}"
            )
            FunnelDayChange.delete().execute()
    return taken


def rebuild(campaign: Campaign) -> None:
    """Recount the campaign's day counters from its units and entries, in its current
    `day_offset`. On PostgreSQL the unit and entry tables are locked against writers for the
    moment it takes, so no change is counted twice or lost."""
    with write_transaction():
        if isinstance(db.obj, PostgresqlDatabase):
            db.execute_sql("LOCK TABLE unit, entry IN SHARE MODE")
        offset = Campaign.get_by_id(campaign.id).day_offset
        FunnelDayChange.delete().where(FunnelDayChange.campaign == campaign.id).execute()
        FunnelDay.delete().where(FunnelDay.campaign == campaign.id).execute()
        for step, model, route, at in COUNTED:
            day = local_day(at, offset)
            counted = (model.campaign == campaign.id) & at.is_null(False)
            if model is Unit:
                counted &= Unit.merged_into.is_null()
            query = (
                model.select(Value(campaign.id), route, Value(step), day, fn.COUNT(SQL("*")))
                .where(counted)
                .group_by(route, day)
            )
            FunnelDay.insert_from(
                query,
                [FunnelDay.campaign, FunnelDay.route, FunnelDay.step, FunnelDay.day, FunnelDay.n],
            ).execute()


def local_day(column, minutes: int):
    """The local calendar day of a naive-UTC timestamp, in SQL, on SQLite or PostgreSQL."""
    if isinstance(db.obj, PostgresqlDatabase):
        day = fn.DATE(column + SQL(f"INTERVAL '{int(minutes)} minutes'"))
    else:
        day = fn.DATE(column, f"{int(minutes):+d} minutes")
    return day.coerce(False)  # not back into a datetime by the column's converter


def _as_date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))
