"""`models.TransactionsTravelLight`: on PostgreSQL, BEGIN travels with a transaction's first
statement and the audit row with its COMMIT. Fewer round trips, the same outcomes: what
commits commits whole, what fails leaves nothing, and the connection stays usable."""

import pytest
from peewee import IntegrityError
from psycopg2.extensions import ISOLATION_LEVEL_SERIALIZABLE, TRANSACTION_STATUS_IDLE

from bench.roundtrips import counting
from campaign.accounts import create_account
from campaign.audit import record
from models import Account, AuditLog, db, insert_guard, write_later


@pytest.fixture(autouse=True)
def postgres_only(app):
    if "postgres" not in type(db.obj).__name__.lower():
        pytest.skip("PostgreSQL's transactions (DATABASE_URL=postgresql://…)")


def connection_is_idle() -> bool:
    return db.connection().info.transaction_status == TRANSACTION_STATUS_IDLE


def test_an_audited_write_is_two_round_trips():
    with counting() as statements:
        account = create_account("light-1", "password-123", "organizer", "组织者")
    assert len(statements) == 2, statements
    assert statements[0].startswith('BEGIN; INSERT INTO "account"')
    assert statements[1].startswith('INSERT INTO "audit_log"')
    assert statements[1].endswith("; COMMIT")
    audit = AuditLog.get(AuditLog.object_id == str(account.id))
    assert (audit.action, audit.after) == (
        "account.create",
        {"username": "light-1", "role": "organizer"},
    )


def test_a_transaction_that_sends_nothing_sends_no_begin_or_commit():
    with counting() as statements:
        db.connect(reuse_if_open=True)
        with db.atomic():
            pass
        with pytest.raises(RuntimeError), db.atomic():
            raise RuntimeError("before any statement")
        assert connection_is_idle()
    assert statements == []


def test_a_failure_after_the_write_leaves_neither_the_row_nor_its_audit():
    with counting() as statements, pytest.raises(RuntimeError), db.atomic():
        account = Account.create(
            username="light-2", password_hash="x", role="expert", display_name="专家"
        )
        record("system", "account.create", account)
        raise RuntimeError("after the write")
    assert statements[-1] == "ROLLBACK"
    assert Account.select().where(Account.username == "light-2").count() == 0
    assert AuditLog.select().count() == 0
    assert connection_is_idle()


def test_a_deferred_statement_that_fails_fails_the_commit_and_leaves_nothing():
    with pytest.raises(IntegrityError), db.atomic():
        Account.create(username="light-3", password_hash="x", role="expert", display_name="专家")
        write_later(AuditLog.insert(actor=None, action="broken", object_type="x", object_id="1"))
    assert connection_is_idle()
    assert Account.select().where(Account.username == "light-3").count() == 0
    assert db.execute_sql("SELECT 1").fetchone() == (1,)  # the connection is still good


def test_a_transaction_opens_its_connection_when_it_begins():
    """BEGIN waits, but the connection may not: peewee empties the transaction stack when it
    connects, which inside the block lost the transaction (found by the audit tests)."""
    db.close()
    with db.atomic():
        assert not db.is_closed() and db.in_transaction()
        create_account("light-4", "password-123", "expert", "专家")
    assert AuditLog.select().count() == 1


def test_the_audit_row_before_a_savepoint_survives_its_rollback():
    """A unique-index race inside a transaction rolls back to its savepoint; the audit row
    waiting before it travels with the SAVEPOINT, so it is kept."""
    Account.create(username="light-5", password_hash="x", role="expert", display_name="专家")
    with db.atomic():
        account = Account.create(
            username="light-6", password_hash="x", role="expert", display_name="专家"
        )
        record("system", "account.create", account)
        with pytest.raises(IntegrityError), insert_guard():
            Account.create(
                username="light-5", password_hash="x", role="expert", display_name="专家"
            )
    assert AuditLog.select().where(AuditLog.object_id == str(account.id)).count() == 1
    assert Account.select().where(Account.username == "light-6").count() == 1


def test_an_isolation_level_travels_with_its_begin():
    with db.atomic(isolation_level=ISOLATION_LEVEL_SERIALIZABLE):
        level = db.execute_sql("SHOW transaction_isolation").fetchone()[0]
    assert level == "serializable"
    assert connection_is_idle()
