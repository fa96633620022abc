"""Finding people by phone number without decrypting anyone, and re-sealing after a key
rotation (sealing.py explains the stored form)."""

from peewee import OP, Expression, Field, Value

import sealing as crypto
from campaign.units import normalize_phone
from models import Attendee, Department, Objection, Unit, WechatUser, db

SEALED_FIELDS = (
    (WechatUser, WechatUser.phone),
    (Department, Department.contact_phone),
    (Unit, Unit.contact_phone),
    (Attendee, Attendee.phone),
    (Objection, Objection.phone),
)


def search_condition(field: Field, phone: str) -> Expression:
    """A WHERE condition matching rows whose sealed `field` holds `phone` (as typed: it is
    normalized first). A prefix match on the blind index; no row is decrypted."""
    pattern = crypto.blind_index(normalize_phone(phone)) + crypto.SEPARATOR + "%"
    return Expression(field, OP.ILIKE, Value(pattern, converter=False))  # not sealed itself


def rekey() -> dict:
    """Seal every plaintext phone, and re-seal every phone sealed under an older key with the
    current one (and its blind index). Idempotent; run after putting a new key in front of
    PHONE_KEY, then drop the old key. Returns the rows rewritten per table."""
    report = {}
    for model, field in SEALED_FIELDS:
        table, column, param = model._meta.table_name, field.column_name, db.obj.param
        rows = db.execute_sql(f'SELECT id, "{column}" FROM "{table}"').fetchall()
        changed = 0
        with db.atomic():
            for row_id, stored in rows:
                if crypto.sealed_with_current(stored):
                    continue
                db.execute_sql(
                    f'UPDATE "{table}" SET "{column}" = {param} WHERE id = {param}',
                    (crypto.seal(crypto.unseal(stored)), row_id),
                )
                changed += 1
        report[table] = changed
    return report
