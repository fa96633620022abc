"""Database round trips per request on the deadline-day paths, counted on PostgreSQL.

Counts, not times: every statement the app sends (peewee's BEGIN and COMMIT and the pool's
own checks included) is one round trip to the database, and the count does not depend on
the machine. The ceilings are today's counts; a change that adds a query fails here and
must say why (docs/deploy.md, "Scaling out", explains the arithmetic).
"""

import psycopg2
import pytest

from bench.roundtrips import counting, per_request
from campaign.definition import current_campaign, options
from models import db
from tests.factories import COMPLETE, UNIT
from tests.redeem.redeem_fixtures import many_tickets, organizer_token

# Round trips per request (was 6 / 10 / 16 / 12 / 19 before the pool stopped pinging fresh
# connections, the session came with its holder and the transactions lost their savepoints;
# press and submit were 10 / 12 before the caller's entry came with its campaign; unit,
# entry, press and submit were 8 / 10 / 9 / 11 before BEGIN travelled with the first statement
# and the audit row with COMMIT; unit and entry were 6 / 7 before the session brought the
# current campaign along; unit and submit were 5 / 9 before a process kept the campaign's options
# under the campaign row's options stamp).
SIGNUP = {"login": 3, "unit": 4, "entry": 7, "press": 7, "submit": 8}


@pytest.fixture(autouse=True)
def postgres_only(app):
    if "postgres" not in type(db.obj).__name__.lower():
        pytest.skip("round trips are counted on PostgreSQL (DATABASE_URL=postgresql://…)")


trips = per_request


def test_signup_path_round_trips(client, wechat, settings, open_window):
    code = wechat.state.login_code(settings.wxa.appid, "o-roundtrip")
    login = trips(lambda: client.post("/api/v1/auth/wxa-login", json={"code": code}))
    token = client.post(
        "/api/v1/auth/wxa-login",
        json={"code": wechat.state.login_code(settings.wxa.appid, "o-roundtrip")},
    ).get_json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    campaign = current_campaign()
    for kind in ("domain", "track", "theme"):
        options(campaign, kind)  # as a worker that has validated one save has read them
    unit = trips(lambda: client.put("/api/v1/me/unit", json=UNIT, headers=auth))
    entry_id = []

    def create():
        response = client.post("/api/v1/entries", json=COMPLETE, headers=auth)
        entry_id.append(response.get_json()["id"])
        return response

    entry = trips(create)
    link = {"kind": "press", "link": "https://news.example.cn/a/1", "title": "报道"}
    press = trips(
        lambda: client.post(f"/api/v1/entries/{entry_id[0]}/attachments", json=link, headers=auth)
    )
    submit = trips(lambda: client.post(f"/api/v1/entries/{entry_id[0]}/submit", headers=auth))
    counts = {"login": login, "unit": unit, "entry": entry, "press": press, "submit": submit}
    assert {name: len(statements) for name, statements in counts.items()} == SIGNUP, counts


def test_check_in_round_trips(client, open_window):
    codes = many_tickets(open_window, 2)
    token = organizer_token(open_window)
    auth = {"Authorization": f"Bearer {token}"}
    statements = trips(
        lambda: client.post(
            "/api/v1/org/redeem", json={"code": codes[0], "nonce": "n1"}, headers=auth
        )
    )
    # the session with its account and the current campaign, the ticket, the INSERT
    assert len(statements) == 3, statements
    assert statements[-1].startswith('INSERT INTO "redemption"')


def test_a_fresh_pooled_connection_is_not_pinged_an_idle_one_is():
    with counting() as statements:
        db.connect()
        db.close()
        statements.clear()
        db.connect()  # back from the pool a moment ago: handed out as is
        db.close()
        assert statements == []
        db.obj._returned_at = dict.fromkeys(db.obj._returned_at, 0.0)  # idle for ages
        db.connect()
        db.close()
        assert statements == ["SELECT 1"]


def test_a_connection_killed_while_idle_is_replaced():
    with counting():
        db.connect()
        pid = db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
        db.close()
        params = {k: v for k, v in db.obj.connect_params.items() if k != "cursor_factory"}
        other = psycopg2.connect(dbname=db.obj.database, **params)
        other.autocommit = True
        other.cursor().execute("SELECT pg_terminate_backend(%s)", (pid,))
        other.close()
        db.obj._returned_at = dict.fromkeys(db.obj._returned_at, 0.0)  # idle for ages
        db.connect()  # the ping finds it dead: a new connection, and the query works
        assert db.execute_sql("SELECT pg_backend_pid()").fetchone()[0] != pid
        db.close()
