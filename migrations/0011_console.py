"""One-time QR sign-in codes of the department console, and the password accounts an
organizer may issue to a department as a fallback, and the accounts' right to see contacts'
phone numbers (issue 14)."""

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model


def up(migrator, db):
    class WechatUser(Model):
        id = IntegerField(primary_key=True)

        class Meta:
            database = db
            table_name = "wechat_user"

    class ConsoleLoginCode(Model):
        scene = CharField(max_length=64, unique=True)
        nonce_hash = CharField(max_length=64)
        ticket = CharField(max_length=255, default="")
        qr_url = CharField(max_length=512, default="")
        expires_at = DateTimeField()
        scanned_by = ForeignKeyField(WechatUser, null=True, on_delete="CASCADE")
        scanned_at = DateTimeField(null=True)
        used_at = DateTimeField(null=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "console_login_code"

    class Account(Model):
        id = IntegerField(primary_key=True)

        class Meta:
            database = db
            table_name = "account"

    class Department(Model):
        id = IntegerField(primary_key=True)

        class Meta:
            database = db
            table_name = "department"

    class DepartmentAccount(Model):
        account = ForeignKeyField(Account, unique=True, on_delete="CASCADE")
        department = ForeignKeyField(Department, on_delete="CASCADE")
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "department_account"

    db.create_tables([ConsoleLoginCode, DepartmentAccount])
    migrator.migrate(migrator.add_column("account", "pii", BooleanField(default=False)))


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("account", "pii"),
        migrator.drop_table("department_account"),
        migrator.drop_table("console_login_code"),
    )
