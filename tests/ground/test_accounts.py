"""Console accounts as plain functions: creation rules, sign-in refusals, the lockout after
five wrong passwords and its end, each audited."""

import datetime

import pytest

from campaign import accounts
from models import Account, AuditLog, utcnow

PASSWORD = "correct horse battery"


@pytest.fixture
def organizer(campaign):
    return accounts.create_account("org1", PASSWORD, "organizer", "组织者", campaign)


def test_an_account_stores_a_hash_and_is_audited(organizer):
    stored = Account.get_by_id(organizer.id)
    assert stored.password_hash != PASSWORD and stored.password_hash.startswith("scrypt:")
    audit = AuditLog.get(AuditLog.action == "account.create")
    assert audit.after == {"username": "org1", "role": "organizer"}
    assert PASSWORD not in str(audit.after)


@pytest.mark.parametrize("role, password", [("superuser", PASSWORD), ("expert", "short")])
def test_bad_roles_and_short_passwords_create_nothing(campaign, role, password):
    with pytest.raises(ValueError):
        accounts.create_account("x", password, role, "X", campaign)
    assert Account.select().count() == 0 and AuditLog.select().count() == 0


def test_the_right_password_signs_in_and_clears_failures(organizer):
    Account.update(failed_logins=3).where(Account.id == organizer.id).execute()
    assert accounts.authenticate("org1", PASSWORD).id == organizer.id
    assert Account.get_by_id(organizer.id).failed_logins == 0
    assert AuditLog.get(AuditLog.action == "account.sign_in").actor == f"account:{organizer.id}"


def test_unknown_name_and_wrong_password_are_the_same_refusal(organizer):
    for name, password in (("nobody", PASSWORD), ("org1", "wrong password!")):
        with pytest.raises(accounts.SignInRefused) as caught:
            accounts.authenticate(name, password)
        assert caught.value.code == "bad_credentials"
    assert Account.get_by_id(organizer.id).failed_logins == 1


def test_the_fifth_failure_in_a_window_records_the_lock(organizer):
    """The caller counts attempts per name (atomically, in Redis: api/console/auth.py), so
    known and unknown names behave alike; the rule records the lock on the fifth."""
    for attempt in range(1, accounts.MAX_FAILURES):
        with pytest.raises(accounts.SignInRefused):
            accounts.authenticate("org1", "wrong password!", attempt=attempt)
    assert not AuditLog.select().where(AuditLog.action == "account.locked").exists()
    with pytest.raises(accounts.SignInRefused):
        accounts.authenticate("org1", "wrong password!", attempt=accounts.MAX_FAILURES)
    stored = Account.get_by_id(organizer.id)
    assert stored.locked_until > utcnow() + datetime.timedelta(minutes=14)
    assert stored.failed_logins == accounts.MAX_FAILURES  # counted in the database itself
    assert AuditLog.select().where(AuditLog.action == "account.locked").count() == 1


def test_the_lock_ends_by_itself(organizer):
    past = utcnow() - datetime.timedelta(seconds=1)
    Account.update(locked_until=past).where(Account.id == organizer.id).execute()
    assert accounts.authenticate("org1", PASSWORD).id == organizer.id
    assert Account.get_by_id(organizer.id).locked_until is None


def test_a_disabled_account_is_refused_only_with_the_right_password(organizer):
    Account.update(active=False).where(Account.id == organizer.id).execute()
    with pytest.raises(accounts.SignInRefused) as wrong:
        accounts.authenticate("org1", "wrong password!")
    assert wrong.value.code == "bad_credentials"  # a guesser learns nothing
    with pytest.raises(accounts.SignInRefused) as right:
        accounts.authenticate("org1", PASSWORD)
    assert right.value.code == "account_disabled"
    assert not AuditLog.select().where(AuditLog.action == "account.sign_in").exists()
