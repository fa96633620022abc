"""What the funnels store instead of counting (migration 0014) equals a recount from the raw
rows after anything: entries moving up and down the status machine, history written out of
order or straight into the table, units merged, attributions arriving late, reassigned or
losing their department, touches arriving late, the day counters folded or not, and the
campaign's days moved to another time zone."""

import datetime
import random
import threading
import time
from collections import Counter

import pytest

from campaign.attribution import attribute
from campaign.channels import funnel_days, funnel_views, funnels
from campaign.channels.funnel_rollup import SLOT_LEVELS, roll_up, roll_up_everything
from campaign.channels.reassign import reassign
from campaign.definition import apply_definition, read_definition
from campaign.entries import status
from campaign.entries.screening import merge_units
from models import (
    Attribution,
    Campaign,
    Channel,
    Department,
    Entry,
    FunnelCount,
    FunnelDay,
    FunnelDayChange,
    FunnelSlot,
    FunnelVisitor,
    StatusChange,
    Touch,
    Unit,
    WechatUser,
    db,
)
from tests.channels.test_funnel import assert_reconciles, build_world, touch_rows

ROUTES = ("org_dept", "industry_dept", "party_school")


# --- recounts from the raw rows ------------------------------------------------------------------


def expected_ladder() -> dict:
    """Entry id → (highest rung, first time of rungs 1…5), from status and history."""
    history: dict = {}
    for change in StatusChange.select().order_by(StatusChange.id):
        history.setdefault(change.entry_id, []).append(change)
    found = {}
    for entry in Entry.select():
        changes = history.get(entry.id, [])
        highest = max([funnels.RUNG.get(entry.status, 0)]
                      + [funnels.RUNG.get(c.to_status, 0) for c in changes])  # fmt: skip
        firsts = tuple(
            min((c.at for c in changes if funnels.RUNG.get(c.to_status, 0) >= n), default=None)
            for n in range(1, 6)
        )
        found[entry.id] = (highest, firsts)
    return found


def stored_ladder() -> dict:
    return {
        e.id: (e.rung, (e.reached_1, e.reached_2, e.reached_3, e.reached_4, e.reached_5))
        for e in Entry.select()
    }


def expected_owners() -> dict:
    attributions = {(a.campaign_id, a.user_id): a for a in Attribution.select()}
    found = {}
    for unit in Unit.select():
        a = attributions.get((unit.campaign_id, unit.owner_id))
        found[unit.id] = (a.route, a.department_id, a.channel_id) if a else ("online", None, None)
    return found


def stored_owners() -> dict:
    return {u.id: (u.owner_route, u.owner_department_id, u.owner_channel_id) for u in Unit.select()}


def local_day(at: datetime.datetime, minutes: int) -> datetime.date:
    return (at + datetime.timedelta(minutes=minutes)).date()


def expected_days(campaign, route: str | None = None) -> Counter:
    """(step, day) → count of units, drafts and rungs reached, straight from the rows."""
    campaign = Campaign.get_by_id(campaign.id)
    minutes = campaign.day_offset
    counts: Counter = Counter()
    for unit in Unit.select().where((Unit.campaign == campaign) & Unit.merged_into.is_null()):
        if route in (None, expected_owners()[unit.id][0]):
            counts["units", local_day(unit.created_at, minutes)] += 1
    ladder = expected_ladder()
    for entry in Entry.select().where(Entry.campaign == campaign):
        if route not in (None, entry.route):
            continue
        counts["drafts", local_day(entry.created_at, minutes)] += 1
        for step, at in zip(funnels.LADDER_STEPS, ladder[entry.id][1], strict=True):
            if at is not None:
                counts[step, local_day(at, minutes)] += 1
    return counts


def stored_days(campaign, route: str | None = None) -> Counter:
    return Counter(
        {(step, day): n for step, day, n in funnel_days.day_counts(campaign, route) if n}
    )


def assert_days_agree(campaign) -> None:
    for route in (None, "online", *ROUTES):
        assert stored_days(campaign, route) == expected_days(campaign, route), route
    lines = funnels.daily_by_route(campaign, "submitted")
    for route in ("online", *ROUTES):
        expected = {d.isoformat(): n for (s, d), n in expected_days(campaign, route).items()
                    if s == "submitted"}  # fmt: skip
        assert lines.get(route, {}) == expected, route


def assert_everything_agrees(campaign) -> None:
    assert stored_ladder() == expected_ladder()
    assert stored_owners() == expected_owners()
    assert_days_agree(campaign)


def slot(at: datetime.datetime) -> int:
    return int(at.replace(tzinfo=datetime.UTC).timestamp()) // 900


def assert_visitor_counters_agree() -> None:
    totals, slots = Counter(), Counter()
    for v in FunnelVisitor.select():
        scope = (v.campaign_id, v.level, v.scope)
        totals[(*scope, "scans")] += 1
        totals[(*scope, "logins")] += v.is_user
        if v.level in SLOT_LEVELS:
            slots[(*scope, slot(v.first_at), "scans")] += 1
            slots[(*scope, slot(v.first_at), "logins")] += v.is_user
    stored_totals, stored_slots = Counter(), Counter()
    for c in FunnelCount.select():
        stored_totals[(c.campaign_id, c.level, c.scope, "scans")] += c.scans
        stored_totals[(c.campaign_id, c.level, c.scope, "logins")] += c.logins
    for s in FunnelSlot.select():
        stored_slots[(s.campaign_id, s.level, s.scope, s.slot, "scans")] += s.scans
        stored_slots[(s.campaign_id, s.level, s.scope, s.slot, "logins")] += s.logins
    assert +stored_totals == +totals  # `+` drops the zeros: only what counts is compared
    assert +stored_slots == +slots
    assert not [n for n in stored_slots.values() if n < 0]


# --- random operations ---------------------------------------------------------------------------


def departments_and_channels(campaign) -> list[Channel]:
    channels = []
    for n, route in enumerate(ROUTES * 2):
        department = Department.create(campaign=campaign, name=f"单位{n}", route=route,
                                       invite_code=f"inv{n}")  # fmt: skip
        channels.append(Channel.create(campaign=campaign, department=department, route=route,
                                       code=f"cnt{n:03d}aaaa"))  # fmt: skip
    return channels


def walk(entry: Entry, rng: random.Random, steps: int) -> None:
    """Random legal moves through the status machine, down the ladder too."""
    for _ in range(steps):
        targets = sorted(status.TRANSITIONS[Entry.get_by_id(entry.id).status])
        status.move(Entry.get_by_id(entry.id), rng.choice(targets), actor="test")


def random_world(campaign, rng: random.Random) -> dict:
    channels = departments_and_channels(campaign)
    users = [WechatUser.create(app="wxa", openid=f"c{n}") for n in range(24)]
    start = campaign.opens_at
    units = []
    for n, user in enumerate(users[:16]):
        if n % 3 == 0:  # attributed before registering
            attribute(campaign, user, rng.choice([*channels, None]))
        registered = start + datetime.timedelta(hours=rng.randrange(500))
        unit = Unit.create(campaign=campaign, owner=user, name=f"支部{n}", created_at=registered)
        if n % 3 == 1:  # attributed only afterwards
            attribute(campaign, user, rng.choice(channels))
        units.append(unit)
    entries = []
    for n in range(40):
        unit = rng.choice(units)
        a = Attribution.get_or_none(Attribution.user == unit.owner)
        entries.append(Entry.create(
            campaign=campaign, unit=unit, owner=unit.owner, route=a.route if a else "online",
            department=a.department_id if a else None, channel=a.channel_id if a else None,
            created_at=start + datetime.timedelta(hours=rng.randrange(500), seconds=n),
        ))  # fmt: skip
    for entry in entries[:25]:
        walk(entry, rng, rng.randrange(1, 7))
    for entry in entries[25:32]:  # history imported out of order, status set directly
        at = start + datetime.timedelta(days=30)
        for target, hours in (("submitted", 5), ("endorsed", -48), ("under_review", -72)):
            StatusChange.create(entry=entry, from_status="x", to_status=target, actor="import",
                                at=at + datetime.timedelta(hours=hours))  # fmt: skip
        Entry.update(status="returned").where(Entry.id == entry.id).execute()
    # No history at all (written straight to the table): its status is its rung.
    Entry.create(campaign=campaign, unit=units[0], owner=units[0].owner, route="online",
                 status="shortlisted")  # fmt: skip
    return {"channels": channels, "users": users, "units": units, "entries": entries}


@pytest.mark.parametrize("seed", [3, 4])
def test_stored_ladder_owners_and_days_agree_with_a_recount(campaign, seed):
    rng = random.Random(seed)
    world = random_world(campaign, rng)
    assert_everything_agrees(campaign)
    units, channels = world["units"], world["channels"]
    merge_units(units[1], units[2], actor="test")
    merge_units(units[3], units[2], actor="test")
    for user in world["users"][:6]:  # to another department, or to the online route
        department = rng.choice([c.department for c in channels] + [None])
        reassign(campaign, user, department.route if department else "online", department,
                 actor="test", reason="测试")  # fmt: skip
    Attribution.delete().where(Attribution.user == world["users"][4]).execute()
    Department.delete().where(Department.id == channels[0].department_id).execute()
    for entry in world["entries"][:10]:
        walk(entry, rng, 2)
    Entry.delete().where(Entry.id == world["entries"][-1].id).execute()
    assert FunnelDayChange.select().count() > 0
    assert_everything_agrees(campaign)
    assert funnel_days.fold() > 0
    assert FunnelDayChange.select().count() == 0
    assert_everything_agrees(campaign)
    funnel_days.rebuild(campaign)
    assert_everything_agrees(campaign)


def test_the_ladder_keeps_the_highest_rung_and_the_first_times(campaign):
    """Returned, withdrawn and not selected keep what was reached; a rung reached again
    later keeps its first time; an earlier change written late moves it earlier."""
    user = WechatUser.create(app="wxa", openid="o-ladder")
    unit = Unit.create(campaign=campaign, owner=user)
    entry = Entry.create(campaign=campaign, unit=unit, owner=user, route="online")
    for target in ("submitted", "returned", "submitted", "under_review", "shortlisted",
                   "not_selected"):  # fmt: skip
        status.move(Entry.get_by_id(entry.id), target, actor="t")
    at = {c.to_status: c.at for c in StatusChange.select().order_by(StatusChange.id.desc())}
    stored = Entry.get_by_id(entry.id)
    assert (stored.status, stored.rung) == ("not_selected", 4)
    assert stored.reached_1 == at["submitted"] < at["returned"]  # the first submission
    assert stored.reached_2 == stored.reached_3 == at["under_review"]  # online: no endorsing
    assert (stored.reached_4, stored.reached_5) == (at["shortlisted"], None)
    earlier = at["submitted"] - datetime.timedelta(days=2)
    StatusChange.create(entry=entry, from_status="draft", to_status="endorsed", actor="import",
                        at=earlier)  # fmt: skip
    stored = Entry.get_by_id(entry.id)
    assert (stored.reached_1, stored.reached_2) == (earlier, earlier)
    assert stored.reached_3 == at["under_review"]
    withdrawn = Entry.create(campaign=campaign, unit=unit, owner=user, route="online")
    status.move(withdrawn, "submitted", actor="t")
    status.move(withdrawn, "withdrawn", actor="t")
    status.move(withdrawn, "draft", actor="t")
    assert Entry.get_by_id(withdrawn.id).rung == 1
    assert stored_ladder() == expected_ladder()


def test_visitor_counters_agree_with_the_filed_visitors(campaign):
    rng = random.Random(11)
    world = build_world(campaign, rng)
    for round_ in range(4):
        rows = touch_rows(campaign, world, rng, 150)
        for row in rows[: 40 * round_]:  # later rounds bring ever earlier touches
            row["at"] -= datetime.timedelta(days=round_, hours=rng.randrange(24))
        Touch.insert_many(rows).execute()
        roll_up(batch=rng.choice((7, 50, 500)))
        assert_visitor_counters_agree()
    roll_up_everything()
    assert_visitor_counters_agree()
    assert_reconciles(campaign)


def test_writers_and_folders_at_once_lose_nothing(campaign):
    """Status moves in several threads while others fold: every change counted once."""
    rng = random.Random(5)
    user = WechatUser.create(app="wxa", openid="o-busy")
    unit = Unit.create(campaign=campaign, owner=user)
    entries = [Entry.create(campaign=campaign, unit=unit, owner=user, route=rng.choice(ROUTES))
               for _ in range(24)]  # fmt: skip
    errors, moving = [], threading.Event()
    moving.set()

    def move(mine):
        try:
            with db.connection_context():
                for entry in mine:
                    for target in ("submitted", "endorsed", "returned", "submitted"):
                        status.move(Entry.get_by_id(entry.id), target, actor="t")
        except Exception as exc:  # surfaced below
            errors.append(exc)

    def fold():
        try:
            with db.connection_context():
                while moving.is_set():
                    funnel_days.fold()
        except Exception as exc:
            errors.append(exc)

    movers = [threading.Thread(target=move, args=(entries[n::3],)) for n in range(3)]
    folders = [threading.Thread(target=fold) for _ in range(2)]
    for thread in movers + folders:
        thread.start()
    for thread in movers:
        thread.join(60)
    moving.clear()
    for thread in folders:
        thread.join(60)
    assert errors == []
    assert_days_agree(campaign)
    funnel_days.fold()
    assert_days_agree(campaign)


def test_another_time_zone_moves_the_days(campaign):
    """The days are the campaign's: reloading it in another time zone recounts them."""
    rng = random.Random(8)
    random_world(campaign, rng)
    funnel_days.fold()
    data = read_definition_for(campaign)
    data["timezone"] = "Asia/Kathmandu"  # +05:45: days move by whole quarter hours too
    moved, _ = apply_definition(data)
    assert moved.day_offset == 345
    assert_days_agree(moved)
    daily = {row["day"]: row for row in funnels.daily(moved, "campaign")}
    for (step, day), n in expected_days(moved).items():
        assert daily[day.isoformat()][step] == n


def read_definition_for(campaign) -> dict:
    from campaign.definition import DEFAULT_PLAN

    data = read_definition(DEFAULT_PLAN)
    assert data["slug"] == campaign.slug
    return data


def test_the_dashboards_top_departments_are_the_first_rows_of_the_table(campaign):
    rng = random.Random(9)
    world = random_world(campaign, rng)
    touches = touch_rows(campaign, {**world, "start": campaign.opens_at}, rng, 300)
    Touch.insert_many(touches).execute()
    roll_up_everything()
    for step in funnels.STEP_NAMES:
        for limit in (1, 3, 10):
            expected = funnel_views.department_rows(campaign, sort=step)[:limit]
            assert funnel_views.top_departments(campaign, step, limit) == expected, step


def test_a_recount_mends_counters_left_short(app, campaign):
    """Touches filed by a worker of the release before 0014 leave the counters short: the
    operator's recount (`flask campaign recount-funnels`) counts everything again."""
    rng = random.Random(12)
    world = build_world(campaign, rng)
    Touch.insert_many(touch_rows(campaign, world, rng, 200)).execute()
    roll_up_everything()
    FunnelCount.update(scans=FunnelCount.scans - 1).execute()
    FunnelSlot.delete().where(FunnelSlot.level == "route").execute()
    FunnelDay.update(n=FunnelDay.n + 3).execute()
    result = app.test_cli_runner().invoke(args=["campaign", "recount-funnels"])
    assert result.exit_code == 0, result.output
    assert_visitor_counters_agree()
    assert_days_agree(campaign)
    assert_reconciles(campaign)


def test_a_unit_registered_while_its_owner_is_first_attributed(campaign):
    """The unit's insert cannot see the attribution being inserted, nor that the unit: the
    later of the two waits for the earlier (a lock on campaign and person) and sees it."""
    user = WechatUser.create(app="wxa", openid="o-race")
    channel = departments_and_channels(campaign)[0]
    inserted, finish = threading.Event(), threading.Event()
    errors = []

    def register():
        try:
            with db.connection_context(), db.atomic():
                Unit.create(campaign=campaign, owner=user)
                inserted.set()
                finish.wait(10)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    def first_touch():
        try:
            with db.connection_context():
                inserted.wait(10)
                attribute(campaign, user, channel)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=register), threading.Thread(target=first_touch)]
    for thread in threads:
        thread.start()
    inserted.wait(10)
    time.sleep(0.3)  # the attribution reaches the unit's lock meanwhile (not an assertion)
    finish.set()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert stored_owners() == expected_owners()
    assert Unit.get(Unit.owner == user).owner_route == channel.route


def test_thousands_of_units_and_attributions_in_one_transaction(campaign):
    """A bulk load takes a bounded number of the triggers' locks: one lock per person ran
    PostgreSQL's shared lock table out of memory at a few thousand rows."""
    now = datetime.datetime(2021, 5, 1)
    channel = departments_and_channels(campaign)[0]
    with db.atomic():
        WechatUser.insert_many(
            [{"app": "wxa", "openid": f"o-bulk-{n}", "created_at": now, "last_seen_at": now}
             for n in range(8000)]
        ).execute()  # fmt: skip
        users = [u for (u,) in WechatUser.select(WechatUser.id).where(
            WechatUser.openid.startswith("o-bulk-")).tuples()]  # fmt: skip
        Attribution.insert_many(
            [{"campaign": campaign.id, "user": u, "channel": channel.id, "route": channel.route,
              "department": channel.department_id, "created_at": now} for u in users[::2]]
        ).execute()  # fmt: skip
        Unit.insert_many(
            [{"campaign": campaign.id, "owner": u, "name": f"单位{u}", "created_at": now,
              "updated_at": now} for u in users]
        ).execute()  # fmt: skip
    assert stored_owners() == expected_owners()
    attributed = Unit.select().where(Unit.owner_route == channel.route).count()
    assert attributed >= 4000
