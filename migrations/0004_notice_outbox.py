"""The notice outbox: why a notice is paused, its fallback official-account template, and
which way each delivery went (mini-program subscribe message or official-account template)."""

from peewee import CharField, ForeignKeyField, IntegerField, Model


def up(migrator, db):
    class MessageTemplate(Model):
        id = IntegerField(primary_key=True)

        class Meta:
            database = db
            table_name = "message_template"

    migrator.migrate(
        migrator.add_column("notice", "state_reason", CharField(max_length=32, default="")),
        migrator.add_column(
            "notice",
            "fallback_template_id",
            ForeignKeyField(
                MessageTemplate, null=True, field=MessageTemplate.id, on_delete="RESTRICT"
            ),
        ),
        migrator.add_column("delivery", "channel", CharField(max_length=16, default="")),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("delivery", "channel"),
        migrator.drop_column("notice", "fallback_template_id"),
        migrator.drop_column("notice", "state_reason"),
    )
