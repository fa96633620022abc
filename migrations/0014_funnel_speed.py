"""Funnels without scanning history (issue 16 item 5a).

Each entry keeps the highest rung of the ladder it ever reached (`rung`: 1 submitted … 5
awarded) and when it first reached each rung (`reached_1` … `reached_5`). Database triggers
keep them: an inserted `status_change` row raises the rung and moves the first times earlier;
an entry's own status raises the rung too. So every writer of the history (the status
machine, imports, tests) is covered in its own transaction. Back-filled from the history.

Visitors: `funnel_count` (per scope: visitors and users among them) and `funnel_slot` (the
campaign's and each route's, per quarter hour of the first time), kept by the roll-up and
back-filled here from `funnel_visitor` under the roller's lock.
"""

from peewee import (
    BigIntegerField,
    CharField,
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
ENTRY_INDEXES = (("campaign_id", "route", "rung"), ("campaign_id", "department_id", "rung"),
                 ("campaign_id", "channel_id", "rung"))  # fmt: skip


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
    db.create_tables(_visitor_tables(db))
    _backfill_visitors(db)


def down(migrator, db):
    for statement in POSTGRES_DROP if _is_postgres(db) else SQLITE_DROP:
        db.execute_sql(statement)
    migrator.migrate(
        migrator.drop_table("funnel_slot"),
        migrator.drop_table("funnel_count"),
        *[migrator.drop_index("entry", "entry_" + "_".join(c)) for c in ENTRY_INDEXES],
        *[migrator.drop_column("entry", column) for column in ["rung", *REACHED]],
    )
