"""Funnels: scans → logins → units → drafts → submitted → endorsed → review → shortlist → award.

Per channel, department, route and the whole campaign; totals and a daily series in the
campaign's time zone. What each step counts:

- scans: distinct visitors (a WeChat user, or an anonymous browser) with a touch in scope,
  from the `FunnelVisitor` roll-up (`campaign.channels.funnel_rollup`); logins: those who are users;
- units: registered units (not merged into another) whose owner is attributed to the scope
  (no attribution yet counts as the online route, as it will be);
- drafts: entries created in scope (entries carry their route, department and channel);
- submitted … awarded: entries that ever reached that rung of the ladder (their current
  status, or a higher one in their history). Reaching a rung counts for every rung below it,
  so the steps never grow: an online-route entry (which has no recommendation) counts as
  endorsed once it is in review.

Daily series count each visitor, unit or entry on the day it first reached the step, so
the days add up to the totals. Scopes with no activity are listed with zeros.
"""

import datetime
from concurrent.futures import ThreadPoolExecutor
from functools import reduce
from zoneinfo import ZoneInfo

from peewee import JOIN, SQL, Case, PostgresqlDatabase, Select, Value, fn

from campaign.attribution import ONLINE_ROUTE
from campaign.entries.status import TRANSITIONS
from models import Attribution, Campaign, Entry, FunnelVisitor, StatusChange, Unit, db

STEPS = (
    ("scans", "扫码人数"),
    ("logins", "登录人数"),
    ("units", "登记单位"),
    ("drafts", "创建案例"),
    ("submitted", "已提交"),
    ("endorsed", "已推荐"),
    ("under_review", "进入评审"),
    ("shortlisted", "入围"),
    ("awarded", "入选"),
)
STEP_NAMES = tuple(name for name, _ in STEPS)
LADDER_STEPS = ("submitted", "endorsed", "under_review", "shortlisted", "awarded")
RUNG = {"submitted": 1, "returned": 1, "endorsed": 2, "under_review": 3, "not_selected": 3,
        "shortlisted": 4, "awarded": 5}  # fmt: skip
# Statuses an entry can fall back to from a higher rung (per the status machine).
DOWNWARD = sorted(
    {to for source, targets in TRANSITIONS.items() for to in targets
     if RUNG.get(to, 0) < RUNG.get(source, 0)}
)  # fmt: skip
LEVELS = ("campaign", "route", "department", "channel")
ROLLUP_LEVEL = {"campaign": "all", "route": "route", "department": "dept", "channel": "channel"}
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="funnel")


def empty() -> dict[str, int]:
    return dict.fromkeys(STEP_NAMES, 0)


def totals(campaign: Campaign, level: str, keys: list | None = None) -> dict:
    """Scope key → step → count; keys: None (campaign), route code, department or channel id.

    `keys` limits the answer to those scopes (and the work to their rows). The three
    aggregates are independent, so they run at once on their own pooled connections.
    """
    visitors, units, entries = together(
        lambda: _visitor_totals(campaign, level, keys),
        lambda: _unit_totals(campaign, level, keys),
        lambda: _entry_totals(campaign, level, keys),
    )
    return _merge(level, visitors, units, entries)


def overview_totals(campaign: Campaign) -> tuple[dict, dict]:
    """(campaign totals, route totals) at once. Units and entries each have exactly one route,
    so the campaign's are the routes' sums; visitors are distinct and counted for both."""
    everyone, by_route, units, entries = together(
        lambda: _visitor_totals(campaign, "campaign"),
        lambda: _visitor_totals(campaign, "route"),
        lambda: _unit_totals(campaign, "route"),
        lambda: _entry_totals(campaign, "route"),
    )
    routes = _merge("route", by_route, units, entries)
    whole = _merge("campaign", everyone, [], []).get(None, empty())
    for counts in routes.values():
        for step in STEP_NAMES[2:]:
            whole[step] += counts[step]
    return whole, routes


def _merge(level: str, visitors, units, entries) -> dict:
    found: dict = {}
    for key, scans, logins in visitors:
        found.setdefault(key, empty()).update(scans=scans, logins=logins)
    for key, count in units:
        if key is not None or level == "campaign":
            found.setdefault(key, empty())["units"] = count
    for key, drafts, *rungs in entries:
        if key is not None or level == "campaign":
            counts = found.setdefault(key, empty())
            counts["drafts"] = drafts
            counts.update(zip(LADDER_STEPS, (int(n or 0) for n in rungs), strict=True))
    return found


def together(*calls):
    """Run independent queries at once, each on its own connection; their results in order."""

    def run(call):
        with db.connection_context():
            return call()

    return list(_pool.map(run, calls))


def conversion(counts: dict[str, int]) -> list[dict]:
    """Each step with its count and its rate from the step before (None after a zero)."""
    steps, previous = [], None
    for name, label in STEPS:
        count = counts.get(name, 0)
        rate = None if not previous else round(count / previous, 4)
        steps.append({"step": name, "label": label, "count": count, "rate": rate})
        previous = count
    return steps


def daily(campaign: Campaign, level: str, key=None) -> list[dict]:
    """One row per local day with any activity in scope: `{"day": "2021-04-01", steps…}`."""
    minutes = _offset_minutes(campaign)
    parts = together(
        lambda: _visitor_days(campaign, level, key, minutes),
        lambda: _created_days(_scoped_units(campaign, level, key), Unit, "units", minutes),
        lambda: _created_days(_scoped_entries(campaign, level, key), Entry, "drafts", minutes),
        lambda: _ladder_days(campaign, level, key, minutes),
    )
    days: dict[str, dict] = {}
    for step, when, count in (row for part in parts for row in part):
        text = when.isoformat() if isinstance(when, datetime.date) else str(when)
        days.setdefault(text[:10], empty())[step] += int(count or 0)
    return [{"day": when, **days[when]} for when in sorted(days)]


def _visitor_days(campaign: Campaign, level: str, key, minutes: int) -> list[tuple]:
    day = _local_day(FunnelVisitor.first_at, minutes)
    query = _scoped_visitors(campaign, level, key).select(day, fn.COUNT(SQL("*")), _true_count())
    rows = list(query.group_by(day).tuples())
    return [("scans", when, scans) for when, scans, _ in rows] + [
        ("logins", when, logins) for when, _, logins in rows
    ]


def _created_days(query, model, step: str, minutes: int) -> list[tuple]:
    day = _local_day(model.created_at, minutes)
    rows = query.select(day, fn.COUNT(model.id)).group_by(day).tuples()
    return [(step, when, count) for when, count in rows]


# --- totals ------------------------------------------------------------------------------


def _visitor_totals(campaign: Campaign, level: str, keys=None):
    query = FunnelVisitor.select(FunnelVisitor.scope, fn.COUNT(SQL("*")), _true_count()).where(
        (FunnelVisitor.campaign == campaign) & (FunnelVisitor.level == ROLLUP_LEVEL[level])
    )
    if keys is not None:
        query = query.where(FunnelVisitor.scope.in_([str(key) for key in keys]))
    rows = query.group_by(FunnelVisitor.scope).tuples()
    return [(_scope_key(level, scope), scans, int(logins or 0)) for scope, scans, logins in rows]


def _unit_totals(campaign: Campaign, level: str, keys=None):
    if level == "campaign":  # one row; PostgreSQL refuses GROUP BY a constant
        return [(None, _units(campaign).count())]
    key = _unit_key(level)
    query = _units(campaign).select(key, fn.COUNT(Unit.id)).group_by(key)
    if keys is not None:
        query = query.where(key.in_(keys))
    return [(_normalize_key(level, k), n) for k, n in query.tuples()]


def _entry_totals(campaign: Campaign, level: str, keys=None):
    in_scope = Entry.campaign == campaign
    if level != "campaign" and keys is not None:
        in_scope &= _entry_key(level).in_(keys)
    history = _history_rungs(in_scope if keys is not None else None)
    highest = _greatest(_rung(Entry.status), fn.COALESCE(history.c.rung, 0))
    columns = [fn.SUM(Case(None, [(highest >= rung, 1)], 0)) for rung in range(1, 6)]
    query = (
        Entry.select(fn.COUNT(Entry.id), *columns)
        .join(history, JOIN.LEFT_OUTER, on=(history.c.entry_id == Entry.id))
        .where(in_scope)
    )
    if level == "campaign":
        return [(None, *row) for row in query.tuples() if row[0]]
    key = _entry_key(level)
    query = query.select(key, fn.COUNT(Entry.id), *columns).group_by(key)
    return [(_normalize_key(level, row[0]), *row[1:]) for row in query.tuples()]


def _history_rungs(in_scope=None):
    """The highest rung reached, from the history, of the entries that ever moved down the
    ladder (returned, withdrawn, not selected…). Every other entry only ever climbed, so its
    current status is its highest rung: the history of most entries need not be read. The
    outer query keeps the entries in scope; a small scope (`in_scope`) is applied here too."""
    moved_down = StatusChange.select(StatusChange.entry).where(
        StatusChange.to_status.in_(DOWNWARD)
        & (_rung(StatusChange.from_status) > _rung(StatusChange.to_status))
    )
    query = StatusChange.select(
        StatusChange.entry.alias("entry_id"),
        fn.MAX(_rung(StatusChange.to_status)).alias("rung"),
    ).where(StatusChange.entry.in_(moved_down))
    if in_scope is not None:  # joining every entry for nothing cost a third of the query
        query = query.join(Entry).where(in_scope)
    return query.group_by(StatusChange.entry).alias("history")


def _rung(status):
    return Case(status, list(RUNG.items()), 0)


def _greatest(first, second):
    return (fn.GREATEST if isinstance(db.obj, PostgresqlDatabase) else fn.MAX)(first, second)


# --- scopes --------------------------------------------------------------------------------


def _units(campaign: Campaign):
    return (
        Unit.select()
        .join(
            Attribution,
            JOIN.LEFT_OUTER,
            on=((Attribution.campaign == Unit.campaign) & (Attribution.user == Unit.owner)),
        )
        .where((Unit.campaign == campaign) & Unit.merged_into.is_null())
    )


def _unit_key(level: str):
    return {
        "route": fn.COALESCE(Attribution.route, ONLINE_ROUTE),
        "department": Attribution.department,
        "channel": Attribution.channel,
    }[level]


def _entry_key(level: str):
    return {
        "route": Entry.route,
        "department": Entry.department,
        "channel": Entry.channel,
    }[level]


def _scoped_visitors(campaign: Campaign, level: str, key):
    scope = "" if level == "campaign" else str(key)
    return FunnelVisitor.select().where(
        (FunnelVisitor.campaign == campaign)
        & (FunnelVisitor.level == ROLLUP_LEVEL[level])
        & (FunnelVisitor.scope == scope)
    )


def _scoped_units(campaign: Campaign, level: str, key):
    query = _units(campaign)
    return query if level == "campaign" else query.where(_unit_key(level) == key)


def _scoped_entries(campaign: Campaign, level: str, key):
    query = Entry.select().where(Entry.campaign == campaign)
    return query if level == "campaign" else query.where(_entry_key(level) == key)


def _ladder_days(campaign: Campaign, level: str, key, minutes: int) -> list[tuple]:
    """(step, local day, entries that first reached the step's rung that day), in one query:
    the per-entry first times are computed once (a CTE) and counted per rung."""
    rung = _rung(StatusChange.to_status)
    firsts = (
        _scoped_entries(campaign, level, key)
        .select(
            Entry.id,
            *[
                fn.MIN(Case(None, [(rung >= n, StatusChange.at)], None)).alias(f"d{n}")
                for n in range(1, 6)
            ],
        )
        .join(StatusChange)
        .group_by(Entry.id)
        .cte("firsts")
    )
    counts = []
    for n, step in enumerate(LADDER_STEPS, start=1):
        column = getattr(firsts.c, f"d{n}")
        day = _local_day(column, minutes)
        counts.append(
            Select([firsts], [Value(step), day, fn.COUNT(SQL("*"))])
            .where(column.is_null(False))
            .group_by(day)
        )
    query = reduce(lambda a, b: a.union_all(b), counts).with_cte(firsts)
    return list(db.execute(query).fetchall())


# --- helpers -------------------------------------------------------------------------------


def _true_count():
    return fn.SUM(Case(None, [(FunnelVisitor.is_user == True, 1)], 0))  # noqa: E712


def _scope_key(level: str, scope: str):
    if level == "campaign":
        return None
    return scope if level == "route" else int(scope)


def _normalize_key(level: str, value):
    if level == "campaign" or value is None:
        return None
    return value if level == "route" else int(value)


def _offset_minutes(campaign: Campaign) -> int:
    """The campaign time zone's offset from UTC (fixed: Asia/Shanghai has had no DST since 1991)."""
    local = campaign.opens_at.replace(tzinfo=datetime.UTC).astimezone(ZoneInfo(campaign.timezone))
    return int(local.utcoffset().total_seconds() // 60)


def _local_day(column, minutes: int):
    """The local calendar day of a naive-UTC timestamp, in SQL, on SQLite or PostgreSQL."""
    if isinstance(db.obj, PostgresqlDatabase):
        day = fn.DATE(column + SQL(f"INTERVAL '{int(minutes)} minutes'"))
    else:
        day = fn.DATE(column, f"{int(minutes):+d} minutes")
    return day.coerce(False)  # not back into a datetime by the column's converter
