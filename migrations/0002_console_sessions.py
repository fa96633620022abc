"""Bearer tokens for console accounts: `auth_session.account_id`, and `user_id` optional."""

from peewee import ForeignKeyField, IntegerField, Model


def up(migrator, db):
    class Account(Model):
        id = IntegerField(primary_key=True)

        class Meta:
            database = db
            table_name = "account"

    migrator.migrate(
        migrator.add_column(
            "auth_session",
            "account_id",
            ForeignKeyField(Account, null=True, field=Account.id, on_delete="CASCADE"),
        ),
        migrator.drop_not_null("auth_session", "user_id"),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("auth_session", "account_id"),
        migrator.add_not_null("auth_session", "user_id"),
    )
