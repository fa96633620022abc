"""Hardening (issue 11): phone numbers encrypted at rest (wider columns, existing numbers
sealed when PHONE_KEY is configured; `flask privacy rekey` does it otherwise); invite codes
with an expiry and a use limit; accounts explicitly allowed every campaign."""

import logging

from peewee import CharField

PHONE_COLUMNS = (
    ("wechat_user", "phone", True),
    ("department", "contact_phone", False),
    ("unit", "contact_phone", False),
    ("attendee", "phone", False),
    ("objection", "phone", False),
)


def _is_postgres(db) -> bool:
    return "postgres" in type(db).__name__.lower()


def up(migrator, db):
    if _is_postgres(db):  # SQLite does not enforce lengths (and rebuilding tables cascades)
        migrator.migrate(
            *[
                migrator.alter_column_type(
                    table, column, CharField(max_length=255, null=null, default=None if null else "")
                )
                for table, column, null in PHONE_COLUMNS
            ]
        )
    _seal_existing(db)
    up_access(migrator)


def _seal_existing(db):
    import sealing as crypto

    try:
        crypto.blind_index("0")
    except crypto.PhoneKeyError:
        logging.getLogger(__name__).warning("PHONE_KEY unset: run `flask privacy rekey` later")
        return
    for table, column, _ in PHONE_COLUMNS:
        rows = db.execute_sql(f'SELECT id, "{column}" FROM "{table}"').fetchall()
        for row_id, value in rows:
            if value and not crypto.is_sealed(value):
                db.execute_sql(
                    f'UPDATE "{table}" SET "{column}" = {db.param} WHERE id = {db.param}',
                    (crypto.seal(value), row_id),
                )


def down(migrator, db):
    # Sealed phone values stay sealed and the wider columns do no harm.
    migrator.migrate(
        migrator.drop_column("account", "all_campaigns"),
        migrator.drop_column("department", "invite_uses"),
        migrator.drop_column("department", "invite_max_uses"),
        migrator.drop_column("department", "invite_expires_at"),
    )


def up_access(migrator):
    """Revocable department access; accounts explicitly scoped to campaigns."""
    from peewee import BooleanField, DateTimeField, IntegerField

    migrator.migrate(
        migrator.add_column("department", "invite_expires_at", DateTimeField(null=True)),
        migrator.add_column("department", "invite_max_uses", IntegerField(null=True)),
        migrator.add_column("department", "invite_uses", IntegerField(default=0)),
        migrator.add_column("account", "all_campaigns", BooleanField(default=False)),
    )
