"""When an image's WeChat check started (to flag checks that never answer), and the
`duplicate_pair` table of entries whose texts look alike."""

from peewee import DateTimeField, FloatField, ForeignKeyField, IntegerField, Model


def up(migrator, db):
    class Entry(Model):
        id = IntegerField(primary_key=True)

        class Meta:
            database = db
            table_name = "entry"

    class DuplicatePair(Model):
        entry = ForeignKeyField(Entry, on_delete="CASCADE")
        other = ForeignKeyField(Entry, on_delete="CASCADE")
        similarity = FloatField()
        found_at = DateTimeField()

        class Meta:
            database = db
            table_name = "duplicate_pair"
            indexes = ((("entry", "other"), True),)

    migrator.migrate(
        migrator.add_column("attachment", "check_started_at", DateTimeField(null=True))
    )
    db.create_tables([DuplicatePair])


def down(migrator, db):
    migrator.migrate(
        migrator.drop_table("duplicate_pair"),
        migrator.drop_column("attachment", "check_started_at"),
    )
