"""The offline exchange and the one scan engine: `exchange_session`, `redemption`, and
`attendee` rebuilt for sessions, a waiting list and tickets (the old table was never written)."""

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
)


def _stubs(db):
    class Campaign(Model):
        id = IntegerField(primary_key=True)

        class Meta:
            database = db
            table_name = "campaign"

    class Unit(Model):
        id = IntegerField(primary_key=True)

        class Meta:
            database = db
            table_name = "unit"

    return Campaign, Unit


def up(migrator, db):
    Campaign, Unit = _stubs(db)

    class ExchangeSession(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        title = CharField(max_length=200)
        place = CharField(max_length=200, default="")
        starts_at = DateTimeField()
        ends_at = DateTimeField(null=True)
        capacity = IntegerField()
        seats_per_unit = IntegerField(default=2)
        registration_open = BooleanField(default=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "exchange_session"

    class Attendee(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        session = ForeignKeyField(ExchangeSession, on_delete="CASCADE")
        unit = ForeignKeyField(Unit, on_delete="CASCADE")
        name = CharField(max_length=64)
        phone = CharField(max_length=32, default="")
        position = CharField(max_length=64, default="")
        status = CharField(max_length=16, default="registered")
        ticket_code = CharField(max_length=32, unique=True)
        registered_by = CharField(max_length=64)
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "attendee"
            indexes = ((("session", "status"), False), (("session", "unit"), False))

    class Redemption(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        kind = CharField(max_length=16)
        object_id = IntegerField()
        nonce = CharField(max_length=64)
        first = BooleanField(null=True)
        forced = BooleanField(default=False)
        scanned_at = DateTimeField()
        recorded_at = DateTimeField()
        by = CharField(max_length=64)
        by_name = CharField(max_length=64, default="")

        class Meta:
            database = db
            table_name = "redemption"
            indexes = (
                (("kind", "object_id", "first"), True),
                (("kind", "object_id", "nonce"), True),
            )

    migrator.migrate(migrator.drop_table("attendee"))
    db.create_tables([ExchangeSession, Attendee, Redemption])


def down(migrator, db):
    Campaign, Unit = _stubs(db)

    class Attendee(Model):
        campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
        unit = ForeignKeyField(Unit, null=True, on_delete="SET NULL")
        name = CharField(max_length=64)
        phone = CharField(max_length=32, default="")
        checkin_code = CharField(unique=True, max_length=32)
        checked_in_at = DateTimeField(null=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "attendee"

    migrator.migrate(
        migrator.drop_table("redemption"),
        migrator.drop_table("attendee"),
        migrator.drop_table("exchange_session"),
    )
    db.create_tables([Attendee])
