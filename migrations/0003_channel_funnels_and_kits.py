"""Funnels and kits: `touch.rolled` (and its index) marks touches already counted into the
new `funnel_visitor` table; `kit_archive` records the ZIPs of departments' QR codes."""

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)


def up(migrator, db):
    class Campaign(Model):
        id = IntegerField(primary_key=True)

        class Meta:
            database = db
            table_name = "campaign"

    class Department(Model):
        id = IntegerField(primary_key=True)

        class Meta:
            database = db
            table_name = "department"

    class FunnelVisitor(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        level = CharField(max_length=8)
        scope = CharField(max_length=32)
        is_user = BooleanField()
        visitor = CharField(max_length=80)
        first_at = DateTimeField()

        class Meta:
            database = db
            table_name = "funnel_visitor"
            indexes = (
                (("campaign", "level", "scope", "is_user", "visitor"), True),
                (("campaign", "level", "scope", "first_at", "is_user"), False),
            )

    class KitArchive(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        department = ForeignKeyField(Department, null=True, on_delete="CASCADE")
        status = CharField(max_length=16, default="pending")
        done = IntegerField(default=0)
        total = IntegerField(default=0)
        storage_key = CharField(max_length=255, null=True)
        size = BigIntegerField(default=0)
        error = TextField(null=True)
        requested_by = CharField(max_length=64)
        created_at = DateTimeField()
        finished_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "kit_archive"
            indexes = ((("campaign", "created_at"), False),)

    migrator.migrate(
        migrator.add_column("touch", "rolled", BooleanField(default=False)),
        migrator.add_index("touch", ("rolled", "id"), False),
    )
    db.create_tables([FunnelVisitor, KitArchive])


def down(migrator, db):
    migrator.migrate(
        migrator.drop_table("kit_archive"),
        migrator.drop_table("funnel_visitor"),
        migrator.drop_index("touch", "touch_rolled_id"),
        migrator.drop_column("touch", "rolled"),
    )
