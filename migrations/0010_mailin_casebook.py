"""The winners' mail-in gets its cover-sheet token and short code, the mailroom's checklist and
what is missing, and who completed it; `casebook` records each build of the 案例汇编.

Rows that exist already get a fresh token and short code before the columns become NOT NULL
and UNIQUE, so the migration works on a database that has mail-ins."""

import secrets

from peewee import (
    BigIntegerField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def up(migrator, db):
    class Campaign(Model):
        id = IntegerField(primary_key=True)

        class Meta:
            database = db
            table_name = "campaign"

    class Casebook(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        options = TextField()
        status = CharField(max_length=16, default="pending")
        done = IntegerField(default=0)
        total = IntegerField(default=0)
        pdf_key = CharField(max_length=255, null=True)
        pdf_size = BigIntegerField(default=0)
        docx_key = CharField(max_length=255, null=True)
        docx_size = BigIntegerField(default=0)
        error = TextField(null=True)
        requested_by = CharField(max_length=64)
        created_at = DateTimeField()
        finished_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "casebook"
            indexes = ((("campaign", "created_at"), False),)

    migrator.migrate(
        migrator.add_column("mail_in", "token", CharField(max_length=64, null=True)),
        migrator.add_column("mail_in", "short_code", CharField(max_length=16, null=True)),
        migrator.add_column("mail_in", "checklist", TextField(default="{}")),
        migrator.add_column("mail_in", "missing", TextField(default="[]")),
        migrator.add_column("mail_in", "completed_at", DateTimeField(null=True)),
        migrator.add_column("mail_in", "completed_by", CharField(max_length=64, null=True)),
        migrator.add_column("mail_in", "created_at", DateTimeField(default="2000-01-01")),
        migrator.add_column("mail_in", "updated_at", DateTimeField(default="2000-01-01")),
    )
    rows = db.execute_sql("SELECT id FROM mail_in").fetchall()
    for (row_id,) in rows:
        code = "".join(secrets.choice(ALPHABET) for _ in range(8))
        p = db.param
        db.execute_sql(
            f"UPDATE mail_in SET token = {p}, short_code = {p} WHERE id = {p}",
            (secrets.token_urlsafe(16), code, row_id),
        )
    migrator.migrate(
        migrator.add_not_null("mail_in", "token"),
        migrator.add_not_null("mail_in", "short_code"),
        migrator.add_index("mail_in", ("token",), True),
        migrator.add_index("mail_in", ("short_code",), True),
    )
    db.create_tables([Casebook])


def down(migrator, db):
    migrator.migrate(
        migrator.drop_table("casebook"),
        migrator.drop_index("mail_in", "mail_in_short_code"),
        migrator.drop_index("mail_in", "mail_in_token"),
        migrator.drop_column("mail_in", "updated_at"),
        migrator.drop_column("mail_in", "created_at"),
        migrator.drop_column("mail_in", "completed_by"),
        migrator.drop_column("mail_in", "completed_at"),
        migrator.drop_column("mail_in", "missing"),
        migrator.drop_column("mail_in", "checklist"),
        migrator.drop_column("mail_in", "short_code"),
        migrator.drop_column("mail_in", "token"),
    )
