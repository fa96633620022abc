"""Check-ins at the door: `POST /api/v1/org/redeem` on PostgreSQL through gunicorn with 4
workers, every request a distinct ticket (a real first redemption, not a replay).

Goal (issue 13): ≥ 500 check-ins/s; printed as a ratio to the goal. Afterwards every answered
scan must have left exactly one redemption row. The database is `CHECKIN_DATABASE_URL`
(default `postgresql://postgres@127.0.0.1:5432/campaign_bench`, created if missing); the
benchmark migrates it and adds its own session and tickets. No PostgreSQL: it says so and skips.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from bench import loadgen, wrk
from bench.stack import ROOT, environment, gunicorn

GOAL = 500.0  # check-ins per second
SECONDS = 8.0
CLIENTS = 8
WORKERS = 4
TICKETS = 24_000  # more than 8 s can use at several times the goal
WARM = 400
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/campaign_bench"


def database_url() -> str | None:
    """The benchmark's PostgreSQL database, created if missing; None if PostgreSQL is down."""
    import psycopg2

    url = os.environ.get("CHECKIN_DATABASE_URL", DEFAULT_URL)
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    try:
        admin = psycopg2.connect(url.replace(f"/{name}", "/postgres", 1), connect_timeout=3)
    except psycopg2.OperationalError:
        return None
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return url


def round_trips(url: str, count: int = 200) -> tuple[float, float]:
    """This machine's PostgreSQL latency now, in ms: a `SELECT 1`, and a committed INSERT (a
    WAL flush). A check-in costs three round trips (the token's session with its account and
    the current campaign, the ticket, the INSERT; counted by `trips`), so these bound what any
    code can reach here."""
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_probe (id serial PRIMARY KEY)")
        timings = []
        for statement in ("SELECT 1", "INSERT INTO bench_probe DEFAULT VALUES"):
            started = time.perf_counter()
            for _ in range(count):
                cursor.execute(statement)
            timings.append((time.perf_counter() - started) / count * 1000)
        cursor.execute("DROP TABLE bench_probe")
    connection.close()
    return timings[0], timings[1]


def scan_request(code: str, nonce: str, token: str) -> bytes:
    body = json.dumps({"code": code, "nonce": nonce}).encode()
    head = (
        f"POST /api/v1/org/redeem HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _scan_line(code: str, token: str) -> str:
    body = json.dumps({"code": code, "nonce": "n"}).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return wrk.request_line("POST", "/api/v1/org/redeem", body, headers)


def _load(port: int, raws: list[list[bytes]], lines: list[str]):
    """wrk cycling through `lines` (C, little CPU taken from the server), else the Python
    generator over `raws`, one list per client."""
    if wrk.available():
        return wrk.run(port, lines, SECONDS, connections=CLIENTS)
    return loadgen.run(port, raws, SECONDS)


def _helper(env: dict, *args: str):
    command = [sys.executable, "-m", "bench.checkin", *args]
    done = subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def main() -> dict:
    url = database_url()
    if url is None:
        print("check-in benchmark skipped: no PostgreSQL (set CHECKIN_DATABASE_URL)")
        return {}
    with tempfile.TemporaryDirectory() as workdir, environment(Path(workdir), url) as env:
        env = {**env, "WEB_CONCURRENCY": str(WORKERS)}
        seeded = _helper(env, "seed", str(TICKETS + WARM))
        codes, token = seeded["codes"], seeded["token"]
        warm = [
            [scan_request(code, f"w{i}", token) for i, code in enumerate(codes[c:WARM:CLIENTS])]
            for c in range(CLIENTS)
        ]
        rest = codes[WARM:]
        share = len(rest) // CLIENTS
        scans = [
            [scan_request(code, f"n{c}", token) for code in rest[c * share : (c + 1) * share]]
            for c in range(CLIENTS)
        ]
        hellos = [[loadgen.get("/hello")] * 20_000 for _ in range(CLIENTS)]
        with gunicorn("bench.hello_app:app", env, workers=WORKERS) as port:
            loadgen.run(port, [r[:200] for r in hellos], 2)  # warm-up
            hello = _load(port, hellos, [wrk.request_line("GET", "/hello")])
        with gunicorn("app:app", env, workers=WORKERS) as port:
            warmed = loadgen.run(port, warm, 30)
            result = _load(port, scans, [_scan_line(code, token) for code in rest])
        stored = _helper(env, "count", str(seeded["session"]))
        trips = _helper(env, "trips")
        select_ms, commit_ms = round_trips(url)
    ratio = result.rate / GOAL
    print(f"check-in benchmark (PostgreSQL, gunicorn {WORKERS} sync workers, {CLIENTS} clients,")
    generator = "wrk" if wrk.available() else "bench.loadgen (wrk not installed)"
    print(f"  {generator}, loopback, new connection per request, a distinct ticket per request)")
    print(hello.line("bare Flask /hello (scale)"))
    print(result.line("POST /api/v1/org/redeem"))
    print(f"ratio to the goal of {GOAL:.0f} check-ins/s: {ratio:.0%} (goal ≥ 100%)")
    print(f"check-ins per hello: {result.rate / hello.rate:.0%} (how far the machine allows)")
    print(f"PostgreSQL now: SELECT 1 {select_ms:.2f} ms, committed INSERT {commit_ms:.2f} ms")
    print(f"database round trips per check-in: {len(trips)} (counted: {', '.join(trips)})")
    answered = warmed.requests + result.requests
    print(
        f"redemptions stored: {stored} for {answered} answered scans (must be equal, or up to "
        f"{CLIENTS} more: requests in flight when the load generator stopped)"
    )
    return {
        "rate": result.rate,
        "ratio": ratio,
        "hello": hello.rate,
        "lost": max(0, answered - stored),
    }


def _command(args: list[str]) -> object:
    """Helper commands, run inside the bench environment (a fresh process)."""
    import runtime
    from campaign.accounts import create_account
    from campaign.definition import current_campaign
    from campaign.sessions import issue_token
    from models import Attendee, Redemption, db

    if args[0] == "trips":
        return _trips()
    runtime.bootstrap()
    with db.connection_context():
        if args[0] == "seed":
            campaign = current_campaign()
            session, codes = _tickets(campaign, int(args[1]))
            name = f"bench-door-{session.id}"
            account = create_account(name, "bench-password", "organizer", "压测签到", campaign)
            return {"codes": codes, "token": issue_token(account)[0], "session": session.id}
        if args[0] == "count":
            tickets = Attendee.select(Attendee.id).where(Attendee.session == int(args[1]))
            return (
                Redemption.select()
                .where((Redemption.kind == "ticket") & Redemption.object_id.in_(tickets))
                .count()
            )
    raise SystemExit(f"unknown command {args}")


def _trips() -> list[str]:
    """The statements one check-in sends, each as verb and table (bench/roundtrips.py)."""
    from app import create_app
    from bench.roundtrips import label, per_request
    from campaign.accounts import create_account
    from campaign.definition import current_campaign
    from campaign.sessions import issue_token
    from models import db

    client = create_app().test_client()
    with db.connection_context():
        campaign = current_campaign()
        session, codes = _tickets(campaign, 1)
        name = f"bench-trips-{session.id}"
        account = create_account(name, "bench-password", "organizer", "压测签到", campaign)
        headers = {"Authorization": f"Bearer {issue_token(account)[0]}"}
    body = {"code": codes[0], "nonce": "trips"}
    statements = per_request(lambda: client.post("/api/v1/org/redeem", json=body, headers=headers))
    return [label(statement) for statement in statements]


def _tickets(campaign, count: int):
    """A session with `count` seated attendees of one winning unit, inserted in bulk."""
    import datetime

    from campaign.redeem.exchange import REGISTERED, new_ticket_code
    from models import Attendee, Entry, ExchangeSession, Unit, WechatUser, db, utcnow

    now = utcnow()
    user = WechatUser.create(app="wxa", openid=f"bench-{now.timestamp()}")
    unit = Unit.create(campaign=campaign, owner=user, name="压测单位")
    Entry.create(campaign=campaign, unit=unit, owner=user, route="online", status="awarded")
    session = ExchangeSession.create(
        campaign=campaign,
        title="压测场次",
        starts_at=now + datetime.timedelta(days=1),
        capacity=count,
        seats_per_unit=count,
    )
    codes = [new_ticket_code() for _ in range(count)]
    rows = [
        {
            "campaign": campaign.id,
            "session": session.id,
            "unit": unit.id,
            "name": f"参会人{n}",
            "status": REGISTERED,
            "ticket_code": code,
            "registered_by": "bench",
            "created_at": now,
            "updated_at": now,
        }
        for n, code in enumerate(codes)
    ]
    with db.atomic():
        for start in range(0, count, 1000):
            Attendee.insert_many(rows[start : start + 1000]).execute()
    return session, codes


if __name__ == "__main__":
    if len(sys.argv) > 1:
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        print(json.dumps(_command(sys.argv[1:])))
    else:
        main()
