"""Publication and 公示: the public lists with their frozen items, objections as tickets, and
each entry's consent to publish its unit's name (`entry.name_consent`, None until asked)."""

from peewee import (
    BooleanField,
    CharField,
    DateField,
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

    class Entry(Model):
        id = IntegerField(primary_key=True)

        class Meta:
            database = db
            table_name = "entry"

    class Publication(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        kind = CharField(max_length=16)
        version = IntegerField(default=1)
        state = CharField(max_length=16, default="open")
        title = CharField(max_length=200)
        intro = TextField(default="")
        contact_text = TextField(default="")
        withheld_label = CharField(max_length=64, default="名称不予公开")
        starts_on = DateField()
        ends_on = DateField()
        reason = TextField(default="")
        previous = ForeignKeyField("self", null=True, on_delete="SET NULL")
        published_by = CharField(max_length=64)
        published_at = DateTimeField()
        finalized_by = CharField(max_length=64, null=True)
        finalized_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "publication"
            indexes = ((("campaign", "kind", "version"), True),)

    class PublicationItem(Model):
        publication = ForeignKeyField(Publication, on_delete="CASCADE")
        entry = ForeignKeyField(Entry, null=True, on_delete="SET NULL")
        position = IntegerField()
        title = CharField(max_length=200)
        unit = CharField(max_length=200)
        unit_withheld = BooleanField(default=False)
        domain = CharField(max_length=32)
        domain_label = CharField(max_length=100)
        region = CharField(max_length=64)
        award = CharField(max_length=16)
        award_label = CharField(max_length=100)

        class Meta:
            database = db
            table_name = "publication_item"
            indexes = ((("publication", "position"), True),)

    class Objection(Model):
        publication = ForeignKeyField(Publication, on_delete="CASCADE")
        entry = ForeignKeyField(Entry, null=True, on_delete="SET NULL")
        filer_kind = CharField(max_length=16)
        name = CharField(max_length=100, default="")
        phone = CharField(max_length=32, default="")
        unit_name = CharField(max_length=200, default="")
        content = TextField()
        received_via = CharField(max_length=8)
        postmark_on = DateField(null=True)
        letter_key = CharField(max_length=255, null=True)
        letter_mime = CharField(max_length=64, default="")
        timely = BooleanField(default=True)
        state = CharField(max_length=16, default="received")
        handler = CharField(max_length=64, null=True)
        reply = TextField(default="")
        replied_at = DateTimeField(null=True)
        entered_by = CharField(max_length=64, default="")
        received_at = DateTimeField()

        class Meta:
            database = db
            table_name = "objection"
            indexes = ((("publication", "state"), False),)

    migrator.migrate(migrator.add_column("entry", "name_consent", BooleanField(null=True)))
    db.create_tables([Publication, PublicationItem, Objection])


def down(migrator, db):
    migrator.migrate(
        migrator.drop_table("objection"),
        migrator.drop_table("publication_item"),
        migrator.drop_table("publication"),
        migrator.drop_column("entry", "name_consent"),
    )
