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

Nothing here counts from the raw rows of the whole campaign (migration 0014): entries keep
their highest rung and first times, units their owner's attribution (database triggers), so
totals are index-only counts; visitors are counted by the roll-up (`FunnelCount`,
`FunnelSlot`) and the campaign's and routes' days of units and entries by `funnel_days`.
"""

import datetime
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import reduce

from peewee import SQL, Value, fn

from campaign.channels import funnel_days
from campaign.channels.funnel_rollup import SLOT_SECONDS, user_flag
from models import Campaign, Entry, FunnelCount, FunnelSlot, FunnelVisitor, Unit, db

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
# Frozen in migration 0014's triggers, which keep `Entry.rung`: a change here needs a migration.
RUNG = {"submitted": 1, "returned": 1, "endorsed": 2, "under_review": 3, "not_selected": 3,
        "shortlisted": 4, "awarded": 5}  # fmt: skip
LEVELS = ("campaign", "route", "department", "channel")
ROLLUP_LEVEL = {"campaign": "all", "route": "route", "department": "dept", "channel": "channel"}
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="funnel")
_in_pool = threading.local()


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


def step_counts(campaign: Campaign, level: str, step: str) -> dict:
    """Scope key → count of one step (scopes without any left out): what ranking the scopes
    by that step needs, without their other counts."""
    if step in ("scans", "logins"):
        column = 1 if step == "scans" else 2
        return {row[0]: row[column] for row in _visitor_totals(campaign, level)}
    if step == "units":
        return dict(_unit_totals(campaign, level))
    rung = 0 if step == "drafts" else LADDER_STEPS.index(step) + 1
    key = _entry_key(level)
    query = (
        Entry.select(key, fn.COUNT(SQL("*")))
        .where((Entry.campaign == campaign) & (Entry.rung >= rung))
        .group_by(key)
    )
    return {_normalize_key(level, k): n for k, n in query.tuples()}


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
    """Run independent queries at once, each on its own connection; their results in order.

    Called from one of the pool's own threads (a view made of views, as the dashboard), the
    calls run there one after the other: waiting on the pool from inside it could wait for
    ever, and the connections stay at most the pool's."""
    if getattr(_in_pool, "yes", False):
        return [call() for call in calls]

    def run(call):
        _in_pool.yes = True
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
    """One row per local day with any activity in scope: `{"day": "2021-04-01", steps…}`.

    The campaign and a route read counters (visitors per quarter hour, `funnel_days` for the
    rest); a department or channel, a few thousand rows at most, is counted directly."""
    minutes = campaign.day_offset  # its time zone at opening, as the day counters are kept
    if level in ("campaign", "route"):
        route = key if level == "route" else None
        parts = together(
            lambda: _visitor_days(campaign, level, key, minutes),
            lambda: funnel_days.day_counts(campaign, route),
        )
    else:
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


def daily_by_route(campaign: Campaign, step: str) -> dict[str, dict[str, int]]:
    """Route → local day → count of one step of units or entries (the dashboard's lines)."""
    lines: dict[str, dict[str, int]] = {}
    for route, when, count in funnel_days.route_counts(campaign, step):
        lines.setdefault(route, {})[when.isoformat()] = count
    return lines


def _visitor_days(campaign: Campaign, level: str, key, minutes: int) -> list[tuple]:
    if level in ("campaign", "route") and minutes % 15 == 0:
        rows = _slot_days(campaign, level, key, minutes)
    else:  # a department or channel has a few thousand visitors: count them
        day = funnel_days.local_day(FunnelVisitor.first_at, minutes)
        query = _scoped_visitors(campaign, level, key).select(
            day, fn.COUNT(SQL("*")), _true_count()
        )
        rows = list(query.group_by(day).tuples())
    return [("scans", when, scans) for when, scans, _ in rows] + [
        ("logins", when, logins) for when, _, logins in rows
    ]


def _slot_days(campaign: Campaign, level: str, key, minutes: int) -> list[tuple]:
    """(local day, scans, logins) from the quarter-hour counters: a local day is whole
    quarter hours in a time zone whose offset is (every real one is)."""
    scope = "" if level == "campaign" else str(key)
    day = (FunnelSlot.slot * SLOT_SECONDS + minutes * 60) / 86400  # integer days since 1970
    rows = (
        FunnelSlot.select(day, fn.SUM(FunnelSlot.scans), fn.SUM(FunnelSlot.logins))
        .where(
            (FunnelSlot.campaign == campaign)
            & (FunnelSlot.level == ROLLUP_LEVEL[level])
            & (FunnelSlot.scope == scope)
        )
        .group_by(day)
        .having(fn.SUM(FunnelSlot.scans) > 0)  # visitors who moved to an earlier day
        .tuples()
    )
    epoch = datetime.date(1970, 1, 1)
    return [(epoch + datetime.timedelta(days=int(n)), s, u) for n, s, u in rows]


def _created_days(query, model, step: str, minutes: int) -> list[tuple]:
    day = funnel_days.local_day(model.created_at, minutes)
    rows = query.select(day, fn.COUNT(model.id)).group_by(day).tuples()
    return [(step, when, count) for when, count in rows]


# --- totals ------------------------------------------------------------------------------


def _visitor_totals(campaign: Campaign, level: str, keys=None):
    """(key, scans, logins) per scope with visitors, from the roll-up's counters."""
    query = FunnelCount.select(FunnelCount.scope, FunnelCount.scans, FunnelCount.logins).where(
        (FunnelCount.campaign == campaign)
        & (FunnelCount.level == ROLLUP_LEVEL[level])
        & (FunnelCount.scans > 0)
    )
    if keys is not None:
        query = query.where(FunnelCount.scope.in_([str(key) for key in keys]))
    return [(_scope_key(level, scope), scans, logins) for scope, scans, logins in query.tuples()]


def _unit_totals(campaign: Campaign, level: str, keys=None):
    if level == "campaign":  # one row; PostgreSQL refuses GROUP BY a constant
        return [(None, _units(campaign).count())]
    key = _unit_key(level)
    query = _units(campaign).select(key, fn.COUNT(SQL("*"))).group_by(key)
    if keys is not None:
        query = query.where(key.in_(keys))
    return [(_normalize_key(level, k), n) for k, n in query.tuples()]


def _entry_totals(campaign: Campaign, level: str, keys=None):
    """(key, drafts, submitted … awarded) per scope: entries counted per highest rung
    (`Entry.rung`, kept by the database), an index-only count with no history read."""
    key = None if level == "campaign" else _entry_key(level)
    group = [Entry.rung] if key is None else [key, Entry.rung]
    query = Entry.select(*group, fn.COUNT(SQL("*"))).where(Entry.campaign == campaign)
    if key is not None and keys is not None:
        query = query.where(key.in_(keys))
    per_rung: dict = {}
    for *scope, rung, count in query.group_by(*group).tuples():
        per_rung.setdefault(scope[0] if scope else None, [0] * 6)[rung] += count
    return [
        (_normalize_key(level, scope), *[sum(counts[rung:]) for rung in range(6)])
        for scope, counts in per_rung.items()  # reaching a rung counts for every rung below
    ]


# --- scopes --------------------------------------------------------------------------------


def _units(campaign: Campaign):
    """Units not merged into another; each carries its owner's attribution (`Unit.owner_*`,
    copied by the database), so no join."""
    return Unit.select().where((Unit.campaign == campaign) & Unit.merged_into.is_null())


def _unit_key(level: str):
    return {
        "route": Unit.owner_route,
        "department": Unit.owner_department_id,
        "channel": Unit.owner_channel_id,
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
    """(step, local day, entries that first reached the step's rung that day), one aggregate
    per rung over the first times kept on each entry (`Entry.reached_1` …), in one query."""
    counts = []
    for n, step in enumerate(LADDER_STEPS, start=1):
        column = getattr(Entry, f"reached_{n}")
        day = funnel_days.local_day(column, minutes)
        counts.append(
            _scoped_entries(campaign, level, key)
            .select(Value(step), day, fn.COUNT(Entry.id))
            .where(column.is_null(False))
            .group_by(day)
        )
    return list(reduce(lambda a, b: a.union_all(b), counts).tuples())


# --- helpers -------------------------------------------------------------------------------


def _true_count():
    return fn.SUM(user_flag(FunnelVisitor.is_user))


def _scope_key(level: str, scope: str):
    if level == "campaign":
        return None
    return scope if level == "route" else int(scope)


def _normalize_key(level: str, value):
    if level == "campaign" or value is None:
        return None
    return value if level == "route" else int(value)
