"""Migration 0014 on a database that already has entries, history, units, attributions and
filed visitors: every stored value is back-filled with the numbers the old queries gave, the
triggers work from then on, and it can be rolled back. On SQLite, and on PostgreSQL when
DATABASE_URL names one (in a scratch database beside it)."""

import datetime
import os
from urllib.parse import urlparse

import pytest
from peewee import PostgresqlDatabase, SqliteDatabase
from playhouse.migrations import Runner

from models import MIGRATIONS_DIR

MIGRATION = "0014_funnel_speed"
T = datetime.datetime(2021, 4, 1, 16, 0)  # 2 April 00:00 in Shanghai


def at(hours: float) -> datetime.datetime:
    return T + datetime.timedelta(hours=hours)


@pytest.fixture(params=["sqlite", "postgres"])
def old_database(request, tmp_path):
    """A database migrated up to the migration before 0014 (foreign keys not enforced on
    SQLite: bare rows suffice)."""
    if request.param == "sqlite":
        database = SqliteDatabase(str(tmp_path / "old.db"))
        yield database
        database.close()
        return
    url = urlparse(os.environ.get("DATABASE_URL", ""))
    if url.scheme not in ("postgres", "postgresql"):
        pytest.skip("DATABASE_URL is not PostgreSQL")
    import psycopg2

    name = f"{url.path.lstrip('/')}_m{os.getpid()}"
    admin = psycopg2.connect(url.geturl())
    admin.autocommit = True
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    database = PostgresqlDatabase(
        name, user=url.username, password=url.password, host=url.hostname, port=url.port or 5432
    )
    yield database
    database.close()
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def dummy(data_type: str):
    kind = data_type.lower()
    if "timestamp" in kind or "datetime" in kind:
        return T
    if kind.startswith("date"):
        return T.date()
    if "bool" in kind:
        return False
    if "int" in kind or "serial" in kind:
        return 0
    if kind.startswith(("real", "double", "float", "numeric")):
        return 0.0
    return ""


def insert(database, table: str, **values) -> None:
    """A row with the given values; every other NOT NULL column gets a neutral value."""
    for column in database.get_columns(table):
        if column.name not in values and not column.null and not column.primary_key:
            values[column.name] = dummy(column.data_type)
    names = ", ".join(f'"{name}"' for name in values)
    places = ", ".join([database.param] * len(values))
    database.execute_sql(
        f'INSERT INTO "{table}" ({names}) VALUES ({places})', list(values.values())
    )


def old_rows(database) -> None:
    insert(database, "campaign", id=1, slug="a", timezone="Asia/Shanghai", opens_at=T)
    insert(database, "campaign", id=2, slug="b", timezone="Asia/Tokyo", opens_at=at(-1))
    for n, route in ((1, "org_dept"), (2, "party_school")):
        insert(database, "department", id=n, campaign_id=1, name=f"d{n}", route=route,
               invite_code=f"i{n}")  # fmt: skip
        insert(database, "channel", id=n, campaign_id=1, department_id=n, route=route,
               code=f"c{n}")  # fmt: skip
    for n in range(1, 6):
        insert(database, "wechat_user", id=n, app="wxa", openid=f"o{n}")
    insert(database, "attribution", campaign_id=1, user_id=1, channel_id=1, route="org_dept",
           department_id=1)  # fmt: skip
    insert(database, "attribution", campaign_id=1, user_id=2, route="online")
    insert(database, "attribution", campaign_id=1, user_id=3, channel_id=2, route="party_school",
           department_id=2)  # fmt: skip
    insert(database, "unit", id=1, campaign_id=1, owner_id=1, created_at=at(-0.5))  # 1 April
    insert(database, "unit", id=2, campaign_id=1, owner_id=2, created_at=at(1))
    insert(database, "unit", id=3, campaign_id=1, owner_id=3, created_at=at(2), merged_into_id=1)
    insert(database, "unit", id=4, campaign_id=1, owner_id=4, created_at=at(3))  # unattributed
    insert(database, "unit", id=5, campaign_id=2, owner_id=5, created_at=at(-0.5))  # Tokyo
    entries = {
        # id: (unit, route, status, created, [(to_status, hours)…] in the order written)
        1: (1, "org_dept", "endorsed", at(0), [("submitted", 1), ("endorsed", 30)]),
        2: (1, "org_dept", "returned", at(1),
            [("submitted", 2), ("endorsed", 3), ("returned", 50)]),
        3: (2, "online", "under_review", at(2), []),  # no history: its status counts
        4: (2, "online", "draft", at(-1), []),
        5: (4, "online", "not_selected", at(3),
            [("submitted", 4), ("under_review", 28), ("shortlisted", 29), ("not_selected", 80)]),
        6: (1, "org_dept", "submitted", at(4), [("submitted", 60), ("submitted", 5)]),  # late row
        7: (5, "online", "submitted", at(-0.5), [("submitted", -0.5)]),
    }  # fmt: skip
    for entry_id, (unit, route, state, created, history) in entries.items():
        campaign = 2 if unit == 5 else 1
        department = 1 if route == "org_dept" else None
        insert(database, "entry", id=entry_id, campaign_id=campaign, unit_id=unit, owner_id=unit,
               route=route, department_id=department, status=state, created_at=created)  # fmt: skip
        for to_status, hours in history:
            insert(database, "status_change", entry_id=entry_id, from_status="x",
                   to_status=to_status, actor="t", at=at(hours))  # fmt: skip
    visitors = [  # level, scope, is_user, visitor, first time
        ("all", "", True, "u1", at(-0.01)), ("all", "", False, "va", at(0)),
        ("all", "", True, "u2", at(25)), ("route", "org_dept", True, "u1", at(-0.01)),
        ("route", "org_dept", False, "va", at(0.2)), ("dept", "1", True, "u1", at(-0.01)),
        ("channel", "1", False, "va", at(0.2)),
    ]  # fmt: skip
    for level, scope, is_user, visitor, first_at in visitors:
        insert(database, "funnel_visitor", campaign_id=1, level=level, scope=scope,
               is_user=is_user, visitor=visitor, first_at=first_at)  # fmt: skip


def rows(database, sql: str) -> set:
    return {tuple(row) for row in database.execute_sql(sql).fetchall()}


def day(value) -> str:
    return str(value)[:10]


def test_the_back_fill_gives_the_old_numbers_and_the_triggers_take_over(old_database):
    database = old_database
    runner = Runner(database, str(MIGRATIONS_DIR))
    names = [m.name for m in runner.status()]
    runner.up(target=names[names.index(MIGRATION) - 1])
    old_rows(database)
    assert MIGRATION in runner.up(target=MIGRATION)

    ladder = {
        row[0]: (row[1], *[None if v is None else str(v)[:19] for v in row[2:]])
        for row in database.execute_sql(
            "SELECT id, rung, reached_1, reached_2, reached_3, reached_4, reached_5 FROM entry"
        ).fetchall()
    }
    iso = lambda hours: str(at(hours))[:19]  # noqa: E731
    assert ladder == {
        1: (2, iso(1), iso(30), None, None, None),
        2: (2, iso(2), iso(3), None, None, None),  # returned after endorsement
        3: (3, None, None, None, None, None),  # status only: no day is known
        4: (0, None, None, None, None, None),
        5: (4, iso(4), iso(28), iso(28), iso(29), None),  # online: review counts as endorsed
        6: (1, iso(5), None, None, None, None),  # the earlier of two, whatever the order
        7: (1, iso(-0.5), None, None, None, None),
    }
    assert rows(database, "SELECT id, owner_route, owner_department_id, owner_channel_id "
                          "FROM unit") == {  # fmt: skip
        (1, "org_dept", 1, 1), (2, "online", None, None), (3, "party_school", 2, 2),
        (4, "online", None, None), (5, "online", None, None),
    }  # fmt: skip
    assert rows(database, "SELECT id, day_offset FROM campaign") == {(1, 480), (2, 540)}
    assert rows(database, "SELECT level, scope, scans, logins FROM funnel_count") == {
        ("all", "", 3, 2), ("route", "org_dept", 2, 1), ("dept", "1", 1, 1),
        ("channel", "1", 1, 0),
    }  # fmt: skip
    quarter = int(T.replace(tzinfo=datetime.UTC).timestamp()) // 900
    assert rows(database, "SELECT level, scope, slot, scans, logins FROM funnel_slot") == {
        ("all", "", quarter - 1, 1, 1), ("all", "", quarter, 1, 0),
        ("all", "", quarter + 100, 1, 1),
        ("route", "org_dept", quarter - 1, 1, 1), ("route", "org_dept", quarter, 1, 0),
    }  # fmt: skip
    days = {
        (c, route, step, day(d), n)
        for c, route, step, d, n in database.execute_sql(
            "SELECT campaign_id, route, step, day, n FROM funnel_day"
        ).fetchall()
    }
    assert days == {
        (1, "org_dept", "units", "2021-04-01", 1), (1, "online", "units", "2021-04-02", 2),
        (1, "org_dept", "drafts", "2021-04-02", 3), (1, "online", "drafts", "2021-04-02", 2),
        (1, "online", "drafts", "2021-04-01", 1), (1, "org_dept", "submitted", "2021-04-02", 3),
        (1, "online", "submitted", "2021-04-02", 1), (1, "org_dept", "endorsed", "2021-04-02", 1),
        (1, "org_dept", "endorsed", "2021-04-03", 1), (1, "online", "endorsed", "2021-04-03", 1),
        (1, "online", "under_review", "2021-04-03", 1),
        (1, "online", "shortlisted", "2021-04-03", 1),
        (2, "online", "units", "2021-04-02", 1), (2, "online", "drafts", "2021-04-02", 1),
        (2, "online", "submitted", "2021-04-02", 1),  # Tokyo: 01:30 on 2 April
    }  # fmt: skip

    insert(database, "status_change", entry_id=4, from_status="draft", to_status="submitted",
           actor="t", at=at(100))  # fmt: skip
    assert rows(database, "SELECT rung FROM entry WHERE id = 4") == {(1,)}
    assert rows(database, "SELECT step, n FROM funnel_day_change") == {("submitted", 1)}
    insert(database, "attribution", campaign_id=1, user_id=4, channel_id=2,
           route="party_school", department_id=2)  # fmt: skip
    assert rows(database, "SELECT owner_route, owner_department_id FROM unit WHERE id = 4") == {
        ("party_school", 2)
    }

    assert runner.down(target=MIGRATION) == [MIGRATION]
    assert "rung" not in {c.name for c in database.get_columns("entry")}
    assert "owner_route" not in {c.name for c in database.get_columns("unit")}
    assert not {"funnel_count", "funnel_slot", "funnel_day"} & set(database.get_tables())
    insert(database, "status_change", entry_id=4, from_status="x", to_status="awarded", actor="t",
           at=at(200))  # no trigger left behind to fail  # fmt: skip
