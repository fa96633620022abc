"""Funnels without scanning history (issue 16 item 5a).

Each entry keeps the highest rung of the ladder it ever reached (`rung`: 1 submitted … 5
awarded) and when it first reached each rung (`reached_1` … `reached_5`). Database triggers
keep them: an inserted `status_change` row raises the rung and moves the first times earlier;
an entry's own status raises the rung too. So every writer of the history (the status
machine, imports, tests) is covered in its own transaction. Back-filled from the history.

Units: the owner's attribution (route, department, channel; the online route without one) is
copied onto each unit (`owner_route`, `owner_department_id`, `owner_channel_id`) by triggers on
unit and attribution, so units are counted per scope without a join.

Visitors: `funnel_count` (per scope: visitors and users among them) and `funnel_slot` (the
campaign's and each route's, per quarter hour of the first time), kept by the roll-up and
back-filled here from `funnel_visitor` under the roller's lock.

Days: `campaign.day_offset` (minutes east of UTC of the campaign's days) and `funnel_day`
(units, drafts and rungs per route and local day), to which triggers on unit and entry
append their changes (`funnel_day_change`) for the roll-up job to fold in.

Every back-fill gives the numbers the previous release's queries gave (tests/channels/
test_funnel_migration.py). Old code keeps working against this schema: its inserts get the
columns' defaults and the triggers fill them in.
"""

import datetime
from zoneinfo import ZoneInfo

from peewee import (
    BigAutoField,
    BigIntegerField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    PostgresqlDatabase,
)

# The ladder as it stood when this migration was written (campaign.channels.funnels.RUNG).
RUNGS = {"submitted": 1, "returned": 1, "endorsed": 2, "under_review": 3, "not_selected": 3,
         "shortlisted": 4, "awarded": 5}  # fmt: skip
REACHED = [f"reached_{n}" for n in range(1, 6)]
# Totals per scope and rung, index-only; and the dashboard's entries by domain.
ENTRY_INDEXES = (("campaign_id", "route", "rung"), ("campaign_id", "department_id", "rung"),
                 ("campaign_id", "channel_id", "rung"),
                 ("campaign_id", "domain", "status"))  # fmt: skip


def rung_of(column: str) -> str:
    cases = " ".join(f"WHEN '{status}' THEN {rung}" for status, rung in RUNGS.items())
    return f"(CASE {column} {cases} ELSE 0 END)"


def _earlier(rung: str, column: str, at: str, postgres: bool) -> str:
    """`column` moved to `at` when the change reaches its rung and is earlier (or the first)."""
    n = column.rsplit("_", 1)[1]
    if postgres:
        return f"{column} = CASE WHEN {rung} >= {n} THEN LEAST({column}, {at}) ELSE {column} END"
    return (
        f"{column} = CASE WHEN {rung} >= {n} AND ({column} IS NULL OR {at} < {column}) "
        f"THEN {at} ELSE {column} END"
    )


def _history_update(rung: str, postgres: bool) -> str:
    greatest = "GREATEST" if postgres else "MAX"
    moved = ", ".join(_earlier(rung, c, "NEW.at", postgres) for c in REACHED)
    return f"UPDATE entry SET rung = {greatest}(rung, {rung}), {moved} WHERE id = NEW.entry_id"


SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER entry_rung_history AFTER INSERT ON status_change
          WHEN {rung_of("NEW.to_status")} > 0 BEGIN
          {_history_update(rung_of("NEW.to_status"), postgres=False)};
        END""",
    f"""CREATE TRIGGER entry_rung_insert AFTER INSERT ON entry
          WHEN {rung_of("NEW.status")} > NEW.rung BEGIN
          UPDATE entry SET rung = {rung_of("NEW.status")} WHERE id = NEW.id;
        END""",
    f"""CREATE TRIGGER entry_rung_status AFTER UPDATE OF status ON entry
          WHEN {rung_of("NEW.status")} > NEW.rung BEGIN
          UPDATE entry SET rung = {rung_of("NEW.status")} WHERE id = NEW.id;
        END""",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS entry_rung_history",
    "DROP TRIGGER IF EXISTS entry_rung_insert",
    "DROP TRIGGER IF EXISTS entry_rung_status",
)
POSTGRES_TRIGGERS = (
    f"""CREATE OR REPLACE FUNCTION entry_rung_history() RETURNS trigger AS $$
        DECLARE reached smallint := {rung_of("NEW.to_status")};
        BEGIN
          IF reached > 0 THEN
            {_history_update("reached", postgres=True)};
          END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER entry_rung_history AFTER INSERT ON status_change
         FOR EACH ROW EXECUTE FUNCTION entry_rung_history()""",
    f"""CREATE OR REPLACE FUNCTION entry_rung_status() RETURNS trigger AS $$
        BEGIN
          NEW.rung := GREATEST(COALESCE(NEW.rung, 0), {rung_of("NEW.status")});
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER entry_rung_status BEFORE INSERT OR UPDATE OF status ON entry
         FOR EACH ROW EXECUTE FUNCTION entry_rung_status()""",
)
POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS entry_rung_history ON status_change",
    "DROP TRIGGER IF EXISTS entry_rung_status ON entry",
    "DROP FUNCTION IF EXISTS entry_rung_history()",
    "DROP FUNCTION IF EXISTS entry_rung_status()",
)


def _backfill_entries(db) -> None:
    """The same numbers the history gave: the highest rung of the status and of every change,
    and for each rung the earliest change that reached it or higher."""
    to_rung = rung_of("to_status")
    firsts = ", ".join(f"MIN(CASE WHEN {to_rung} >= {n} THEN at END) AS d{n}" for n in range(1, 6))
    reached = ", ".join(f"reached_{n} = history.d{n}" for n in range(1, 6))
    db.execute_sql(
        f"UPDATE entry SET rung = history.rung, {reached} FROM ("
        f"SELECT entry_id, MAX({to_rung}) AS rung, {firsts} FROM status_change "
        f"GROUP BY entry_id) AS history WHERE history.entry_id = entry.id"
    )
    status = rung_of("status")
    db.execute_sql(f"UPDATE entry SET rung = {status} WHERE {status} > rung")


UNIT_INDEXES = (("campaign_id", "owner_route", "merged_into_id"),
                ("campaign_id", "owner_department_id", "merged_into_id"),
                ("campaign_id", "owner_channel_id", "merged_into_id"))  # fmt: skip
OWNER = "owner_route, owner_department_id, owner_channel_id"
ONLINE = "'online', NULL, NULL"  # campaign.attribution.ONLINE_ROUTE


def _attribution_of(unit: str, column: str) -> str:
    return (
        f"(SELECT {column} FROM attribution a WHERE a.campaign_id = {unit}.campaign_id "
        f"AND a.user_id = {unit}.owner_id)"
    )


def _copy_attribution(unit: str) -> str:
    return (
        f"UPDATE unit SET owner_route = COALESCE({_attribution_of(unit, 'route')}, 'online'), "
        f"owner_department_id = {_attribution_of(unit, 'department_id')}, "
        f"owner_channel_id = {_attribution_of(unit, 'channel_id')} WHERE id = {unit}.id"
    )


def _owner_units(attribution: str, values: str) -> str:
    return (
        f"UPDATE unit SET ({OWNER}) = ({values}) WHERE campaign_id = {attribution}.campaign_id "
        f"AND owner_id = {attribution}.user_id"
    )


NEW_SCOPE = "NEW.route, NEW.department_id, NEW.channel_id"
SQLITE_UNIT_TRIGGERS = (
    f"""CREATE TRIGGER unit_owner_insert AFTER INSERT ON unit BEGIN
          {_copy_attribution("NEW")};
        END""",
    f"""CREATE TRIGGER unit_owner_update AFTER UPDATE OF campaign_id, owner_id ON unit BEGIN
          {_copy_attribution("NEW")};
        END""",
    f"""CREATE TRIGGER attribution_units_insert AFTER INSERT ON attribution BEGIN
          {_owner_units("NEW", NEW_SCOPE)};
        END""",
    f"""CREATE TRIGGER attribution_units_update
          AFTER UPDATE OF campaign_id, user_id, route, department_id, channel_id ON attribution
          BEGIN
          {_owner_units("OLD", ONLINE)};
          {_owner_units("NEW", NEW_SCOPE)};
        END""",
    f"""CREATE TRIGGER attribution_units_delete AFTER DELETE ON attribution BEGIN
          {_owner_units("OLD", ONLINE)};
        END""",
)
SQLITE_UNIT_DROP = tuple(
    f"DROP TRIGGER IF EXISTS {name}"
    for name in ("unit_owner_insert", "unit_owner_update", "attribution_units_insert",
                 "attribution_units_update", "attribution_units_delete")
)  # fmt: skip
# A unit inserted while its owner's attribution is being inserted by another transaction
# would see none, and the attribution's update would not see the unit: both triggers first
# take a transaction lock on (campaign, person), so the second waits and then sees the first.
# The lock is one of OWNER_LOCK_BUCKETS per (campaign, person): a transaction that writes many
# units or attributions (a bulk load, a department's attributions set NULL) takes at most that
# many, where one lock per person ran PostgreSQL's shared lock table out of memory (64 per
# connection by default) at a few thousand rows.
OWNER_LOCK_SPACE = 7_301_002
OWNER_LOCK_BUCKETS = 1024


def _owner_lock(campaign: str, person: str) -> str:
    bucket = f"mod({campaign} * 7919 + {person}, {OWNER_LOCK_BUCKETS})::int"  # no % for the driver
    return f"PERFORM pg_advisory_xact_lock({OWNER_LOCK_SPACE}, {bucket})"


POSTGRES_UNIT_TRIGGERS = (
    f"""CREATE OR REPLACE FUNCTION unit_owner() RETURNS trigger AS $$
        BEGIN
          {_owner_lock('NEW.campaign_id', 'NEW.owner_id')};
          SELECT route, department_id, channel_id
            INTO NEW.owner_route, NEW.owner_department_id, NEW.owner_channel_id
            FROM attribution WHERE campaign_id = NEW.campaign_id AND user_id = NEW.owner_id;
          IF NOT FOUND THEN
            SELECT {ONLINE} INTO NEW.owner_route, NEW.owner_department_id, NEW.owner_channel_id;
          END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER unit_owner BEFORE INSERT OR UPDATE OF campaign_id, owner_id ON unit
         FOR EACH ROW EXECUTE FUNCTION unit_owner()""",
    f"""CREATE OR REPLACE FUNCTION attribution_units() RETURNS trigger AS $$
        BEGIN
          IF TG_OP <> 'INSERT' THEN
            {_owner_lock('OLD.campaign_id', 'OLD.user_id')};
            {_owner_units("OLD", ONLINE)};
          END IF;
          IF TG_OP <> 'DELETE' THEN
            {_owner_lock('NEW.campaign_id', 'NEW.user_id')};
            {_owner_units("NEW", NEW_SCOPE)};
          END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER attribution_units
         AFTER INSERT OR DELETE OR UPDATE OF campaign_id, user_id, route, department_id, channel_id
         ON attribution FOR EACH ROW EXECUTE FUNCTION attribution_units()""",
)
POSTGRES_UNIT_DROP = (
    "DROP TRIGGER IF EXISTS unit_owner ON unit",
    "DROP TRIGGER IF EXISTS attribution_units ON attribution",
    "DROP FUNCTION IF EXISTS unit_owner()",
    "DROP FUNCTION IF EXISTS attribution_units()",
)


def _unit_columns(migrator, db) -> None:
    # Raw SQL for the NOT NULL column, as for entry.rung. No foreign keys on the copies
    # (SQLite cannot drop such a column again): a department or channel deleted sets the
    # attribution's NULL, and its trigger the units'.
    db.execute_sql("ALTER TABLE unit ADD COLUMN owner_route VARCHAR(32) NOT NULL DEFAULT 'online'")
    migrator.migrate(
        migrator.add_column("unit", "owner_department_id", IntegerField(null=True)),
        migrator.add_column("unit", "owner_channel_id", IntegerField(null=True)),
        *[migrator.add_index("unit", columns, False) for columns in UNIT_INDEXES],
    )
    db.execute_sql(
        f"UPDATE unit SET ({OWNER}) = (a.route, a.department_id, a.channel_id) "
        "FROM attribution a WHERE a.campaign_id = unit.campaign_id AND a.user_id = unit.owner_id"
    )
    for statement in POSTGRES_UNIT_TRIGGERS if _is_postgres(db) else SQLITE_UNIT_TRIGGERS:
        db.execute_sql(statement)


# --- day counters: units, drafts and rungs per route and local day ----------------------

ENTRY_DAYS = (("drafts", "created_at"), ("submitted", "reached_1"), ("endorsed", "reached_2"),
              ("under_review", "reached_3"), ("shortlisted", "reached_4"),
              ("awarded", "reached_5"))  # fmt: skip
UNIT_DAYS = (("units", "created_at"),)
COUNTED = {"entry": ("route", ENTRY_DAYS, ""), "unit": ("owner_route", UNIT_DAYS, "merged_into_id")}


def _day_tables(db) -> list:
    class Campaign(Model):
        id = IntegerField(primary_key=True)

        class Meta:
            database = db
            table_name = "campaign"

    class FunnelDay(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        route = CharField(max_length=32)
        step = CharField(max_length=16)
        day = DateField()
        n = IntegerField(default=0)

        class Meta:
            database = db
            table_name = "funnel_day"
            indexes = ((("campaign", "route", "step", "day"), True),)

    class FunnelDayChange(Model):
        id = BigAutoField()
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        route = CharField(max_length=32)
        step = CharField(max_length=16)
        day = DateField()
        n = IntegerField()

        class Meta:
            database = db
            table_name = "funnel_day_change"

    return [FunnelDay, FunnelDayChange]


def _counted_columns(table: str) -> list[str]:
    """The columns whose change moves a count."""
    route, steps, merged = COUNTED[table]
    return [c for c in dict.fromkeys(["campaign_id", route, *[at for _, at in steps], merged]) if c]


def _local_day(at: str, postgres: bool) -> str:
    if postgres:
        return f"CAST({at} + make_interval(mins => c.day_offset) AS date)"
    return f"date({at}, c.day_offset || ' minutes')"


def _sqlite_change(table: str, row: str, step: str, at: str, sign: int, when: str = "") -> str:
    route, _, merged = COUNTED[table]
    counted = f" AND {row}.{merged} IS NULL" if merged else ""
    return (
        "INSERT INTO funnel_day_change (campaign_id, route, step, day, n) "
        f"SELECT {row}.campaign_id, {row}.{route}, '{step}', "
        f"{_local_day(f'{row}.{at}', False)}, {sign} FROM campaign c "
        f"WHERE c.id = {row}.campaign_id AND {row}.{at} IS NOT NULL{counted}{when}"
    )


def _sqlite_day_triggers(table: str) -> tuple:
    route, steps, merged = COUNTED[table]
    moved = [f"OLD.{c} IS NOT NEW.{c}" for c in ("campaign_id", route, merged) if c]
    columns = ", ".join(_counted_columns(table))
    updates = []
    for step, at in steps:
        changed = " AND (" + " OR ".join([f"OLD.{at} IS NOT NEW.{at}", *moved]) + ")"
        updates += [_sqlite_change(table, "OLD", step, at, -1, changed),
                    _sqlite_change(table, "NEW", step, at, 1, changed)]  # fmt: skip
    body = {
        "insert": [_sqlite_change(table, "NEW", step, at, 1) for step, at in steps],
        "delete": [_sqlite_change(table, "OLD", step, at, -1) for step, at in steps],
        "update": updates,
    }
    event = {"insert": "INSERT", "delete": "DELETE", "update": f"UPDATE OF {columns}"}
    return tuple(
        f"CREATE TRIGGER funnel_day_{table}_{kind} AFTER {event[kind]} ON {table} BEGIN "
        + "; ".join(statements) + "; END"
        for kind, statements in body.items()
    )  # fmt: skip


POSTGRES_DAY_CHANGE = f"""CREATE OR REPLACE FUNCTION funnel_day_change(
        c_id integer, r varchar, s varchar, t timestamp, delta integer) RETURNS void AS $$
    BEGIN
      IF t IS NOT NULL THEN
        INSERT INTO funnel_day_change (campaign_id, route, step, day, n)
          SELECT c.id, r, s, {_local_day("t", True)}, delta FROM campaign c WHERE c.id = c_id;
      END IF;
    END $$ LANGUAGE plpgsql"""


def _postgres_day_function(table: str) -> str:
    """Every step of OLD out and of NEW in; an update that keeps the campaign, route and
    counting moves only the steps whose time changed (a status move: one)."""
    route, steps, merged = COUNTED[table]

    def change(row: str, step: str, at: str, sign: int) -> str:
        call = (
            f"PERFORM funnel_day_change({row}.campaign_id, {row}.{route}, '{step}', "
            f"{row}.{at}, {sign});"
        )
        return f"IF {row}.{merged} IS NULL THEN {call} END IF;" if merged else call

    same = " AND ".join(
        f"OLD.{c} IS NOT DISTINCT FROM NEW.{c}" for c in ("campaign_id", route, merged) if c
    )
    moved = "\n".join(
        f"IF OLD.{at} IS DISTINCT FROM NEW.{at} THEN {change('OLD', step, at, -1)} "
        f"{change('NEW', step, at, 1)} END IF;"
        for step, at in steps
    )
    out = "\n".join(change("OLD", step, at, -1) for step, at in steps)
    into = "\n".join(change("NEW", step, at, 1) for step, at in steps)
    return f"""CREATE OR REPLACE FUNCTION funnel_day_{table}() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'UPDATE' AND {same} THEN
        {moved}
        RETURN NULL;
      END IF;
      IF TG_OP <> 'INSERT' THEN
        {out}
      END IF;
      IF TG_OP <> 'DELETE' THEN
        {into}
      END IF;
      RETURN NULL;
    END $$ LANGUAGE plpgsql"""


def _postgres_day_triggers(table: str) -> tuple:
    columns = _counted_columns(table)
    old = ", ".join(f"OLD.{c}" for c in columns)
    new = ", ".join(f"NEW.{c}" for c in columns)
    return (
        _postgres_day_function(table),
        f"""CREATE TRIGGER funnel_day_{table} AFTER INSERT OR DELETE ON {table}
              FOR EACH ROW EXECUTE FUNCTION funnel_day_{table}()""",
        f"""CREATE TRIGGER funnel_day_{table}_update AFTER UPDATE OF {", ".join(columns)}
              ON {table} FOR EACH ROW WHEN (ROW({old}) IS DISTINCT FROM ROW({new}))
              EXECUTE FUNCTION funnel_day_{table}()""",
    )


def _day_triggers(postgres: bool) -> tuple:
    if postgres:
        return (POSTGRES_DAY_CHANGE, *_postgres_day_triggers("entry"),
                *_postgres_day_triggers("unit"))  # fmt: skip
    return (*_sqlite_day_triggers("entry"), *_sqlite_day_triggers("unit"))


def _drop_day_triggers(postgres: bool) -> tuple:
    if postgres:
        return (
            *[f"DROP TRIGGER IF EXISTS funnel_day_{t}{k} ON {t}" for t in COUNTED
              for k in ("", "_update")],
            *[f"DROP FUNCTION IF EXISTS funnel_day_{t}()" for t in COUNTED],
            "DROP FUNCTION IF EXISTS funnel_day_change(integer, varchar, varchar, timestamp, "
            "integer)",
        )  # fmt: skip
    return tuple(f"DROP TRIGGER IF EXISTS funnel_day_{t}_{k}" for t in COUNTED
                 for k in ("insert", "delete", "update"))  # fmt: skip


def _day_offsets(db) -> None:
    """Each campaign's offset at its opening, as campaign.definition sets it from now on."""
    db.execute_sql("ALTER TABLE campaign ADD COLUMN day_offset INTEGER NOT NULL DEFAULT 480")
    rows = db.execute_sql("SELECT id, timezone, opens_at FROM campaign").fetchall()
    for campaign_id, timezone, opens_at in rows:
        if isinstance(opens_at, str):
            opens_at = datetime.datetime.fromisoformat(opens_at)
        local = opens_at.replace(tzinfo=datetime.UTC).astimezone(ZoneInfo(timezone))
        minutes = int(local.utcoffset().total_seconds() // 60)
        db.execute_sql(
            f"UPDATE campaign SET day_offset = {db.param} WHERE id = {db.param}",
            (minutes, campaign_id),
        )


def _backfill_days(db) -> None:
    postgres = _is_postgres(db)
    parts = []
    for table, (route, steps, merged) in COUNTED.items():
        for step, at in steps:
            conditions = [f"t.{at} IS NOT NULL"] + ([f"t.{merged} IS NULL"] if merged else [])
            parts.append(
                f"SELECT t.campaign_id, t.{route}, '{step}', {_local_day(f't.{at}', postgres)}, "
                f"COUNT(*) FROM {table} t JOIN campaign c ON c.id = t.campaign_id "
                f"WHERE {' AND '.join(conditions)} GROUP BY 1, 2, 3, 4"
            )
    db.execute_sql(
        "INSERT INTO funnel_day (campaign_id, route, step, day, n) " + " UNION ALL ".join(parts)
    )


ROLLER_LOCK = 7_301_001  # campaign.channels.funnel_rollup.ROLLER_LOCK


def _visitor_tables(db) -> list:
    class Campaign(Model):
        id = IntegerField(primary_key=True)

        class Meta:
            database = db
            table_name = "campaign"

    class FunnelCount(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        level = CharField(max_length=8)
        scope = CharField(max_length=32)
        scans = IntegerField(default=0)
        logins = IntegerField(default=0)

        class Meta:
            database = db
            table_name = "funnel_count"
            indexes = ((("campaign", "level", "scope"), True),)

    class FunnelSlot(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        level = CharField(max_length=8)
        scope = CharField(max_length=32)
        slot = BigIntegerField()
        scans = IntegerField(default=0)
        logins = IntegerField(default=0)

        class Meta:
            database = db
            table_name = "funnel_slot"
            indexes = ((("campaign", "level", "scope", "slot"), True),)

    return [FunnelCount, FunnelSlot]


def _backfill_visitors(db) -> None:
    if _is_postgres(db):  # no roller files anything meanwhile
        db.execute_sql(f"SELECT pg_advisory_xact_lock({ROLLER_LOCK})")
        slot = "CAST(FLOOR(date_part('epoch', first_at) / 900) AS BIGINT)"
    else:
        slot = "CAST(strftime('%s', first_at) AS INTEGER) / 900"
    users = "SUM(CASE WHEN is_user THEN 1 ELSE 0 END)"
    db.execute_sql(
        "INSERT INTO funnel_count (campaign_id, level, scope, scans, logins) "
        f"SELECT campaign_id, level, scope, COUNT(*), {users} FROM funnel_visitor "
        "GROUP BY campaign_id, level, scope"
    )
    db.execute_sql(
        "INSERT INTO funnel_slot (campaign_id, level, scope, slot, scans, logins) "
        f"SELECT campaign_id, level, scope, {slot}, COUNT(*), {users} FROM funnel_visitor "
        f"WHERE level IN ('all', 'route') GROUP BY campaign_id, level, scope, {slot}"
    )


def _is_postgres(db) -> bool:
    return isinstance(db, PostgresqlDatabase)


def up(migrator, db):
    # Raw SQL: peewee's SQLite migrator would rebuild the table for a NOT NULL column, and
    # the search triggers (0012) refuse that.
    db.execute_sql("ALTER TABLE entry ADD COLUMN rung SMALLINT NOT NULL DEFAULT 0")
    migrator.migrate(
        *[migrator.add_column("entry", column, DateTimeField(null=True)) for column in REACHED],
        *[migrator.add_index("entry", columns, False) for columns in ENTRY_INDEXES],
    )
    _backfill_entries(db)
    for statement in POSTGRES_TRIGGERS if _is_postgres(db) else SQLITE_TRIGGERS:
        db.execute_sql(statement)
    _unit_columns(migrator, db)
    db.create_tables(_visitor_tables(db))
    _backfill_visitors(db)
    _day_offsets(db)
    db.create_tables(_day_tables(db))
    _backfill_days(db)
    for statement in _day_triggers(_is_postgres(db)):
        db.execute_sql(statement)


def down(migrator, db):
    postgres = _is_postgres(db)
    triggers = POSTGRES_DROP + POSTGRES_UNIT_DROP if postgres else SQLITE_DROP + SQLITE_UNIT_DROP
    for statement in (*_drop_day_triggers(postgres), *triggers):
        db.execute_sql(statement)
    migrator.migrate(
        migrator.drop_table("funnel_day_change"),
        migrator.drop_table("funnel_day"),
        migrator.drop_column("campaign", "day_offset"),
        migrator.drop_table("funnel_slot"),
        migrator.drop_table("funnel_count"),
        *[migrator.drop_index("unit", "unit_" + "_".join(c)) for c in UNIT_INDEXES],
        *[migrator.drop_column("unit", column) for column in OWNER.split(", ")],
        *[migrator.drop_index("entry", "entry_" + "_".join(c)) for c in ENTRY_INDEXES],
        *[migrator.drop_column("entry", column) for column in ["rung", *REACHED]],
    )
