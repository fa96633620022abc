"""Collection done right (issue 10): what a department endorsed (`entry_endorsement`), export
jobs (`export_job`), notices timed by the deadline (`notice_anchor`), and the search index
`entry_search` (title, abstract and unit name of every entry, kept in step by triggers):
an FTS5 table with the trigram tokenizer on SQLite, a table with a pg_trgm GIN index on
PostgreSQL. `entry_search` is not a model: only campaign/search.py reads it."""

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    PostgresqlDatabase,
    TextField,
)

SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS entry_search USING fts5(doc, tokenize='trigram')",
    """CREATE TRIGGER IF NOT EXISTS entry_search_insert AFTER INSERT ON entry BEGIN
         INSERT INTO entry_search (rowid, doc) VALUES (new.id, new.title || char(10) ||
           new.abstract || char(10) || coalesce((SELECT name FROM unit WHERE id = new.unit_id), ''));
       END""",
    """CREATE TRIGGER IF NOT EXISTS entry_search_update
         AFTER UPDATE OF title, abstract, unit_id ON entry BEGIN
         DELETE FROM entry_search WHERE rowid = old.id;
         INSERT INTO entry_search (rowid, doc) VALUES (new.id, new.title || char(10) ||
           new.abstract || char(10) || coalesce((SELECT name FROM unit WHERE id = new.unit_id), ''));
       END""",
    """CREATE TRIGGER IF NOT EXISTS entry_search_delete AFTER DELETE ON entry BEGIN
         DELETE FROM entry_search WHERE rowid = old.id;
       END""",
    """CREATE TRIGGER IF NOT EXISTS entry_search_unit AFTER UPDATE OF name ON unit BEGIN
         UPDATE entry_search SET doc = (SELECT e.title || char(10) || e.abstract || char(10) ||
           new.name FROM entry e WHERE e.id = entry_search.rowid)
         WHERE rowid IN (SELECT id FROM entry WHERE unit_id = new.id);
       END""",
    """INSERT INTO entry_search (rowid, doc) SELECT e.id, e.title || char(10) || e.abstract ||
         char(10) || coalesce(u.name, '') FROM entry e LEFT JOIN unit u ON u.id = e.unit_id""",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS entry_search_insert",
    "DROP TRIGGER IF EXISTS entry_search_update",
    "DROP TRIGGER IF EXISTS entry_search_delete",
    "DROP TRIGGER IF EXISTS entry_search_unit",
    "DROP TABLE IF EXISTS entry_search",
)
POSTGRES_BACKFILL = """INSERT INTO entry_search (entry_id, campaign_id, doc)
  SELECT e.id, e.campaign_id, lower(concat_ws(E'\\n', e.title, e.abstract, u.name))
  FROM entry e LEFT JOIN unit u ON u.id = e.unit_id"""
POSTGRES_SEARCH = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "DROP TABLE IF EXISTS entry_search CASCADE",
    """CREATE TABLE entry_search (
         entry_id INTEGER PRIMARY KEY REFERENCES entry (id) ON DELETE CASCADE,
         campaign_id INTEGER NOT NULL,
         doc TEXT NOT NULL)""",
    "CREATE INDEX entry_search_doc_trgm ON entry_search USING gin (doc gin_trgm_ops)",
    # `doc` is lower-cased once here, so searches use LIKE (ILIKE lower-cases every row).
    """CREATE OR REPLACE FUNCTION entry_search_sync() RETURNS trigger AS $$
       BEGIN
         INSERT INTO entry_search (entry_id, campaign_id, doc) VALUES (NEW.id, NEW.campaign_id,
           lower(concat_ws(E'\\n', NEW.title, NEW.abstract,
                           (SELECT name FROM unit WHERE id = NEW.unit_id))))
         ON CONFLICT (entry_id) DO UPDATE SET doc = EXCLUDED.doc;
         RETURN NEW;
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER entry_search_sync AFTER INSERT OR UPDATE OF title, abstract, unit_id
         ON entry FOR EACH ROW EXECUTE FUNCTION entry_search_sync()""",
    """CREATE OR REPLACE FUNCTION entry_search_unit() RETURNS trigger AS $$
       BEGIN
         UPDATE entry_search s SET doc = lower(concat_ws(E'\\n', e.title, e.abstract, NEW.name))
           FROM entry e WHERE e.unit_id = NEW.id AND s.entry_id = e.id;
         RETURN NEW;
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER entry_search_unit AFTER UPDATE OF name ON unit
         FOR EACH ROW EXECUTE FUNCTION entry_search_unit()""",
    POSTGRES_BACKFILL,
)
POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS entry_search_unit ON unit",
    "DROP TRIGGER IF EXISTS entry_search_sync ON entry",
    "DROP TABLE IF EXISTS entry_search",
    "DROP FUNCTION IF EXISTS entry_search_unit()",
    "DROP FUNCTION IF EXISTS entry_search_sync()",
)


def _is_postgres(db) -> bool:
    return isinstance(db, PostgresqlDatabase)


def up(migrator, db):
    class Campaign(Model):
        id = IntegerField(primary_key=True)

        class Meta:
            database = db
            table_name = "campaign"

    class Entry(Model):
        id = IntegerField(primary_key=True)

        class Meta:
            database = db
            table_name = "entry"

    class EntryEndorsement(Model):
        entry = ForeignKeyField(Entry, on_delete="CASCADE")
        data = TextField()
        actor = CharField(max_length=64)
        at = DateTimeField()

        class Meta:
            database = db
            table_name = "entry_endorsement"
            indexes = ((("entry", "at"), False),)

    class Notice(Model):
        id = IntegerField(primary_key=True)

        class Meta:
            database = db
            table_name = "notice"

    class NoticeAnchor(Model):
        notice = ForeignKeyField(Notice, unique=True, on_delete="CASCADE")
        days = IntegerField()
        time = CharField(max_length=5)

        class Meta:
            database = db
            table_name = "notice_anchor"

    class ExportJob(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        kind = CharField(max_length=16)
        params = TextField()
        pii = BooleanField()
        status = CharField(max_length=16)
        done = IntegerField()
        total = IntegerField()
        storage_key = CharField(max_length=255, null=True)
        size = BigIntegerField()
        error = TextField(null=True)
        requested_by = CharField(max_length=64)
        created_at = DateTimeField()
        finished_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "export_job"
            indexes = ((("campaign", "created_at"), False),)

    # account.pii: added by 0011 (the console's right to see phone numbers), the same right
    db.create_tables([EntryEndorsement, NoticeAnchor, ExportJob])
    for statement in POSTGRES_SEARCH if _is_postgres(db) else SQLITE_SEARCH:
        db.execute_sql(statement)


def down(migrator, db):
    for statement in POSTGRES_DROP if _is_postgres(db) else SQLITE_DROP:
        db.execute_sql(statement)
    migrator.migrate(
        migrator.drop_table("export_job"),
        migrator.drop_table("notice_anchor"),
        migrator.drop_table("entry_endorsement"),
    )
