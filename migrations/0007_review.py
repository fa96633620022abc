"""Expert review (issue 12): expert profiles, assignment runs, holds (chair queue and 复核)
and published comments; the review columns of `assignment`, the kind of a conflict
declaration (declared or recusal) and when a decision was applied."""

import datetime

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)


def _now():
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def _stub(db, name):
    class Stub(Model):
        id = IntegerField(primary_key=True)

        class Meta:
            database = db
            table_name = name

    return Stub


def up(migrator, db):
    Campaign, Account, Department, Unit, Entry, Notice = (
        _stub(db, name) for name in ("campaign", "account", "department", "unit", "entry", "notice")
    )

    class JSONText(TextField):
        pass

    class ExpertProfile(Model):
        account = ForeignKeyField(Account, unique=True, on_delete="CASCADE")
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        domains = JSONText()
        organization = CharField(max_length=200, default="")
        department = ForeignKeyField(Department, null=True, on_delete="SET NULL")
        unit = ForeignKeyField(Unit, null=True, on_delete="SET NULL")
        system = CharField(max_length=32, default="")
        region = CharField(max_length=64, default="")
        cap = IntegerField(default=120)
        bind_code = CharField(max_length=16, null=True, unique=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "expert_profile"

    class AssignmentRun(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        status = CharField(max_length=16, default="draft")
        params = JSONText()
        pairs = JSONText()
        stats = JSONText()
        created_by = CharField(max_length=64)
        created_at = DateTimeField()
        published_by = CharField(max_length=64, null=True)
        published_at = DateTimeField(null=True)
        notice = ForeignKeyField(Notice, null=True, on_delete="SET NULL")

        class Meta:
            database = db
            table_name = "assignment_run"
            indexes = ((("campaign", "status"), False),)

    class ReviewHold(Model):
        entry = ForeignKeyField(Entry, on_delete="CASCADE")
        kind = CharField(max_length=8)
        state = CharField(max_length=8, default="open")
        outcome = CharField(max_length=16, default="")
        note = TextField(default="")
        opened_by = CharField(max_length=64)
        opened_at = DateTimeField()
        resolved_by = CharField(max_length=64, null=True)
        resolved_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "review_hold"
            indexes = ((("entry", "kind"), True),)

    class PublishedComment(Model):
        entry = ForeignKeyField(Entry, unique=True, on_delete="CASCADE")
        text = TextField()
        attribution = CharField(max_length=100)
        sources = JSONText()
        published_by = CharField(max_length=64)
        published_at = DateTimeField()

        class Meta:
            database = db
            table_name = "published_comment"

    db.create_tables([ExpertProfile, AssignmentRun, ReviewHold, PublishedComment])
    migrator.migrate(
        migrator.add_column("assignment", "run", IntegerField(null=True)),
        migrator.add_column("assignment", "pinned", BooleanField(default=False)),
        migrator.add_column("assignment", "gate", CharField(max_length=8, default="")),
        migrator.add_column("assignment", "gate_remark", TextField(default="")),
        migrator.add_column("assignment", "updated_at", DateTimeField(default=_now)),
        migrator.add_column(
            "conflict_declaration", "kind", CharField(max_length=16, default="declared")
        ),
        migrator.add_column(
            "conflict_declaration", "created_by", CharField(max_length=64, default="")
        ),
        migrator.add_column("decision", "applied_at", DateTimeField(null=True)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("decision", "applied_at"),
        migrator.drop_column("conflict_declaration", "created_by"),
        migrator.drop_column("conflict_declaration", "kind"),
        migrator.drop_column("assignment", "updated_at"),
        migrator.drop_column("assignment", "gate_remark"),
        migrator.drop_column("assignment", "gate"),
        migrator.drop_column("assignment", "pinned"),
        migrator.drop_column("assignment", "run"),
        migrator.drop_table("published_comment"),
        migrator.drop_table("review_hold"),
        migrator.drop_table("assignment_run"),
        migrator.drop_table("expert_profile"),
    )
