"""Funnels reconcile exactly with brute-force counts over the raw rows, even when touches are
written and rolled up concurrently; the endpoints, sorting and the Excel export."""

import datetime
import io
import random
import threading
import time
from collections import defaultdict

import pytest
from openpyxl import load_workbook

from campaign.channels import funnels
from campaign.channels.funnel_rollup import pending, roll_up, roll_up_everything
from campaign.entries.status import TRANSITIONS
from campaign.sessions import issue_token
from models import (
    Attribution,
    Channel,
    Department,
    DepartmentMember,
    Entry,
    StatusChange,
    Touch,
    Unit,
    WechatUser,
    db,
)
from tasks.queue import get_queue
from tests.channel_fixtures import persist_scans
from tests.factories import Organizer

LOCAL = datetime.timedelta(hours=8)  # Asia/Shanghai


# --- random raw data ---------------------------------------------------------------------------


def build_world(campaign, rng: random.Random) -> dict:
    """Departments and channels on every route, users, visitors, attributions, units, entries."""
    routes = ("org_dept", "industry_dept", "party_school")
    departments = [
        Department.create(
            campaign=campaign, name=f"部门{n}", route=routes[n % 3], invite_code=f"i{n}"
        )
        for n in range(5)
    ]
    channels = [
        Channel.create(campaign=campaign, department=d, route=d.route, code=f"ch{d.id}x{k}aaaa")
        for d in departments
        for k in range(1 + d.id % 2)
    ]
    channels.append(Channel.create(campaign=campaign, route="online", code="onlinech01"))
    users = [WechatUser.create(app=rng.choice(("wxa", "mp")), openid=f"o{n}") for n in range(40)]
    start = campaign.opens_at
    for user in rng.sample(users, 30):
        channel = rng.choice([*channels, None])
        Attribution.create(
            campaign=campaign, user=user, channel=channel,
            route=channel.route if channel else "online",
            department=channel.department_id if channel else None,
        )  # fmt: skip
    owners = rng.sample(users, 25)
    units = [Unit.create(campaign=campaign, owner=u, created_at=moment(rng, start)) for u in owners]
    Unit.update(merged_into=units[0]).where(Unit.id == units[1].id).execute()
    for _ in range(60):
        unit = rng.choice(units)
        attribution = Attribution.get_or_none(Attribution.user == unit.owner)
        make_entry(campaign, unit, attribution, rng, start)
    return {"channels": channels, "users": users, "start": start}


def moment(rng: random.Random, start: datetime.datetime) -> datetime.datetime:
    return start + datetime.timedelta(
        seconds=rng.randrange(20 * 86400), microseconds=rng.randrange(10**6)
    )


def make_entry(campaign, unit, attribution, rng, start) -> None:
    created = moment(rng, start)
    entry = Entry.create(
        campaign=campaign, unit=unit, owner=unit.owner, created_at=created,
        route=attribution.route if attribution else "online",
        channel=attribution.channel_id if attribution else None,
        department=attribution.department_id if attribution else None,
    )  # fmt: skip
    status, at = "draft", created
    for _ in range(rng.randrange(6)):
        target = rng.choice(sorted(TRANSITIONS[status]))
        at += datetime.timedelta(hours=rng.randrange(1, 60))
        StatusChange.create(entry=entry, from_status=status, to_status=target, actor="t", at=at)
        status = target
    Entry.update(status=status).where(Entry.id == entry.id).execute()


def touch_rows(campaign, world: dict, rng: random.Random, count: int) -> list[dict]:
    visitors = [f"visitor{n:08d}" for n in range(30)]
    rows = []
    for _ in range(count):
        channel = rng.choice([*world["channels"], None])
        who = rng.random()
        rows.append(
            {
                "campaign": campaign.id,
                "channel": channel.id if channel else None,
                "user": rng.choice(world["users"]).id if who < 0.55 else None,
                "visitor": rng.choice(visitors) if 0.55 <= who < 0.97 else None,
                "kind": rng.choice(("link_scan", "mp_scan", "wxa_open", "oauth")),
                "client": "wechat",
                "at": moment(rng, world["start"]),
            }
        )
    return rows


# --- brute force over the raw rows -------------------------------------------------------------


def scope_keys(level: str, channel: Channel | None) -> list:
    if level == "campaign":
        return [None]
    if channel is None:
        return []
    key = {"route": channel.route, "department": channel.department_id, "channel": channel.id}
    return [] if key[level] is None else [key[level]]


def day(at: datetime.datetime) -> str:
    return (at + LOCAL).date().isoformat()


def brute_force(campaign, level: str) -> tuple[dict, dict]:
    """(totals, daily) computed the slow, obvious way from every raw row."""
    totals = defaultdict(funnels.empty)
    daily = defaultdict(lambda: defaultdict(funnels.empty))
    channels = {c.id: c for c in Channel.select()}
    first_seen = {}
    for t in Touch.select().order_by(Touch.at):
        who = ("u", t.user_id) if t.user_id else (("v", t.visitor) if t.visitor else None)
        for key in scope_keys(level, channels.get(t.channel_id)) if who else []:
            first_seen.setdefault((key, who), t.at)
    for (key, who), at in first_seen.items():
        for step in ("scans", "logins") if who[0] == "u" else ("scans",):
            totals[key][step] += 1
            daily[key][day(at)][step] += 1
    attributions = {a.user_id: a for a in Attribution.select()}
    for unit in Unit.select().where(Unit.merged_into.is_null()):
        a = attributions.get(unit.owner_id)
        key = {
            "campaign": None,
            "route": a.route if a else "online",
            "department": a.department_id if a else None,
            "channel": a.channel_id if a else None,
        }[level]
        if key is not None or level == "campaign":
            totals[key]["units"] += 1
            daily[key][day(unit.created_at)]["units"] += 1
    history = defaultdict(list)
    for change in StatusChange.select():
        history[change.entry_id].append(change)
    for entry in Entry.select():
        key = {"campaign": None, "route": entry.route, "department": entry.department_id,
               "channel": entry.channel_id}[level]  # fmt: skip
        if key is None and level != "campaign":
            continue
        totals[key]["drafts"] += 1
        daily[key][day(entry.created_at)]["drafts"] += 1
        highest = max(
            [funnels.RUNG.get(entry.status, 0)]
            + [funnels.RUNG.get(c.to_status, 0) for c in history[entry.id]]
        )
        for rung, step in enumerate(funnels.LADDER_STEPS, start=1):
            totals[key][step] += highest >= rung
            reached = [c.at for c in history[entry.id] if funnels.RUNG.get(c.to_status, 0) >= rung]
            if reached:
                daily[key][day(min(reached))][step] += 1
    return dict(totals), daily


def assert_reconciles(campaign) -> None:
    for level in funnels.LEVELS:
        expected, expected_daily = brute_force(campaign, level)
        assert funnels.totals(campaign, level) == expected, level
        for key, counts in expected.items():
            rows = funnels.daily(campaign, level, key)
            assert {r["day"]: {s: r[s] for s in funnels.STEP_NAMES} for r in rows} == {
                d: dict(v) for d, v in expected_daily[key].items()
            }, (level, key)
            for step in funnels.STEP_NAMES:
                assert sum(r[step] for r in rows) == counts[step]


@pytest.mark.parametrize("seed", [1, 2])
def test_every_number_reconciles_with_the_raw_rows(campaign, seed):
    rng = random.Random(seed)
    world = build_world(campaign, rng)
    Touch.insert_many(touch_rows(campaign, world, rng, 400)).execute()
    roll_up(batch=37)
    late = touch_rows(campaign, world, rng, 200)  # earlier times arriving after a roll-up
    for row in late:
        row["at"] -= datetime.timedelta(days=3)
    Touch.insert_many(late).execute()
    assert roll_up_everything() == 600 - 37
    assert pending() == 0
    assert_reconciles(campaign)
    totals = funnels.totals(campaign, "campaign")[None]
    assert totals["scans"] >= totals["logins"] > 0 and totals["drafts"] == 60
    ladder = [totals[s] for s in funnels.LADDER_STEPS]
    assert ladder == sorted(ladder, reverse=True) and ladder[0] > 0


def test_concurrent_writers_and_rollers_count_every_touch_once(campaign):
    rng = random.Random(7)
    world = build_world(campaign, rng)
    batches = [touch_rows(campaign, world, rng, 40) for _ in range(24)]
    writing = threading.Event()
    writing.set()
    errors = []

    def write(mine):
        try:
            with db.connection_context():
                for rows in mine:
                    with db.atomic():
                        Touch.insert_many(rows).execute()
        except Exception as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    def roll():
        try:
            with db.connection_context():
                while writing.is_set() or pending():
                    if not roll_up(batch=25):
                        time.sleep(0.002)
        except Exception as exc:
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(batches[n::4],)) for n in range(4)]
    rollers = [threading.Thread(target=roll) for _ in range(3)]
    for thread in writers + rollers:
        thread.start()
    for thread in writers:
        thread.join(60)
    writing.clear()
    for thread in rollers:
        thread.join(60)
    assert errors == []
    assert Touch.select().count() == 24 * 40 and pending() == 0
    assert_reconciles(campaign)


def test_daily_days_are_local_days(campaign):
    channel = Channel.create(campaign=campaign, route="online", code="dayscode01")
    before_midnight = datetime.datetime(2021, 4, 1, 15, 59, 59)  # 23:59:59 in Shanghai
    after_midnight = datetime.datetime(2021, 4, 1, 16, 0, 0)  # 00:00 on 2 April
    for n, at in enumerate((before_midnight, after_midnight)):
        Touch.create(campaign=campaign, channel=channel, visitor=f"v{n}", kind="link_scan", at=at)
    roll_up_everything()
    rows = funnels.daily(campaign, "channel", channel.id)
    assert [(r["day"], r["scans"]) for r in rows] == [("2021-04-01", 1), ("2021-04-02", 1)]


# --- the endpoints -----------------------------------------------------------------------------


@pytest.fixture
def org(client, campaign):
    return Organizer(client, campaign)


def scan_as(client, code: str, visitor: str) -> None:
    client.set_cookie("cv", visitor)
    assert client.get(f"/q/{code}").status_code == 302


def test_the_organizer_views(client, org, run_jobs):
    busy = org.department("忙碌的部门", route="org_dept")
    quiet = org.department("安静的部门", route="party_school")
    for n in range(3):
        scan_as(client, busy["channels"][0]["code"], f"visitor{n:09d}")
    scan_as(client, quiet["channels"][0]["code"], "visitor000000000")
    run_jobs()  # the codes
    persist_scans()
    first = org.get("/api/v1/org/funnel").get_json()
    assert first["pending_touches"] == 4
    assert "funnel-roll-up" in get_queue("default").job_ids
    run_jobs()
    overview = org.get("/api/v1/org/funnel").get_json()
    assert overview["pending_touches"] == 0
    assert overview["campaign"][0] == {
        "step": "scans",
        "label": "扫码人数",
        "count": 3,
        "rate": None,
    }
    routes = {r["route"]: r["steps"][0]["count"] for r in overview["routes"]}
    assert routes == {"online": 0, "org_dept": 3, "industry_dept": 0, "party_school": 1}
    rows = org.get("/api/v1/org/funnel/departments?sort=scans&order=asc").get_json()["items"]
    assert [r["department"]["name"] for r in rows] == ["安静的部门", "忙碌的部门"]
    assert rows[1]["counts"]["scans"] == 3 and rows[1]["rates"]["logins"] == 0
    bad = org.get("/api/v1/org/funnel/departments?sort=popularity")
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "invalid_sort"
    channels = org.get(f"/api/v1/org/funnel/channels?department_id={busy['id']}").get_json()
    assert [c["counts"]["scans"] for c in channels["items"]] == [3]
    days = org.get(f"/api/v1/org/funnel/daily?level=department&key={busy['id']}").get_json()
    assert sum(d["scans"] for d in days["items"]) == 3
    assert org.get("/api/v1/org/funnel/daily?level=department").status_code == 422


def test_the_excel_export_matches_the_api(client, org):
    department = org.department("导出测试部门", route="industry_dept", region="福州市")
    scan_as(client, department["channels"][0]["code"], "visitor000000001")
    persist_scans()
    roll_up_everything()
    response = org.get("/api/v1/org/funnel/export.xlsx")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["总览", "推荐单位", "渠道", "每日"]
    header, row = list(book["推荐单位"].values)
    assert header[:4] == ("推荐单位", "征集方式", "地区", "扫码人数")
    assert row[:4] == ("导出测试部门", "行业部门推荐", "福州市", 1)
    assert row[-1] == 0  # 扫码→提交: one scan, nothing submitted yet


def test_a_department_sees_its_own_funnel_only(client, org):
    mine = org.department("本部门", route="org_dept")
    other = org.department("别的部门", route="org_dept")
    scan_as(client, mine["channels"][0]["code"], "visitor000000002")
    scan_as(client, other["channels"][0]["code"], "visitor000000003")
    scan_as(client, other["channels"][0]["code"], "visitor000000004")
    persist_scans()
    roll_up_everything()
    user = WechatUser.create(app="wxa", openid="o-dept-user")
    DepartmentMember.create(department=mine["id"], user=user)
    token, _ = issue_token(user)
    response = client.get("/api/v1/dept/funnel", headers={"Authorization": f"Bearer {token}"})
    [view] = response.get_json()["items"]
    assert view["department"]["name"] == "本部门"
    assert view["steps"][0]["count"] == 1
    assert [c["channel"]["code"] for c in view["channels"]] == [mine["channels"][0]["code"]]
    assert sum(d["scans"] for d in view["daily"]) == 1
    stranger, _ = issue_token(WechatUser.create(app="wxa", openid="o-nobody"))
    refused = client.get("/api/v1/dept/funnel", headers={"Authorization": f"Bearer {stranger}"})
    assert refused.status_code == 403
