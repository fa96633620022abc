"""Console accounts (organizers, experts, admins, departments): passwords, lockout, roles.

Passwords are hashed with Werkzeug's scrypt. Five wrong passwords lock an account for 15
minutes (等保 "登录失败处理"); the lock and every sign-in are audited.
"""

import datetime

from werkzeug.security import check_password_hash, generate_password_hash

from campaign.audit import record
from models import Account, Campaign, db, utcnow

ROLES = ("admin", "organizer", "expert", "department")  # department: see department_accounts
MAX_FAILURES = 5
LOCK_FOR = datetime.timedelta(minutes=15)
MIN_PASSWORD = 10


class SignInRefused(Exception):
    """Wrong name or password, a disabled account, or a locked one (`code` says which)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def create_account(
    username: str, password: str, role: str, display_name: str, campaign: Campaign | None = None
) -> Account:
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"passwords need at least {MIN_PASSWORD} characters")
    with db.atomic():
        account = Account.create(
            username=username,
            password_hash=generate_password_hash(password),
            role=role,
            display_name=display_name,
            campaign=campaign,
        )
        record("system", "account.create", account, None, {"username": username, "role": role})
    return account


def authenticate(username: str, password: str) -> Account:
    """The account, if the password is right and it may sign in; else SignInRefused."""
    account = Account.get_or_none(Account.username == username)
    now = utcnow()
    if account is None:
        check_password_hash(generate_password_hash("x"), password)  # same time as a miss
        raise SignInRefused("bad_credentials")
    if account.locked_until and account.locked_until > now:
        raise SignInRefused("account_locked")
    if not check_password_hash(account.password_hash, password):
        _count_failure(account, now)
        raise SignInRefused("bad_credentials")
    if not account.active:
        raise SignInRefused("account_disabled")
    Account.update(failed_logins=0, locked_until=None).where(Account.id == account.id).execute()
    record(f"account:{account.id}", "account.sign_in", account)
    return account


def _count_failure(account: Account, now) -> None:
    failures = account.failed_logins + 1
    locked_until = now + LOCK_FOR if failures >= MAX_FAILURES else None
    with db.atomic():
        Account.update(
            failed_logins=0 if locked_until else failures, locked_until=locked_until
        ).where(Account.id == account.id).execute()
        if locked_until:
            record(f"account:{account.id}", "account.locked", account, None, {"until": str(now)})


def set_active(account: Account, active: bool, actor: str) -> Account:
    """Disable (every session revoked with it) or enable an account; audited."""
    from campaign.sessions import revoke_all

    with db.atomic():
        Account.update(active=active).where(Account.id == account.id).execute()
        if not active:
            revoke_all(account)
        record(actor, "account.enable" if active else "account.disable", account)
    return Account.get_by_id(account.id)


def reset_password(account: Account, password: str, actor: str) -> Account:
    """A new password set by an admin: the lock lifted, every session revoked; audited."""
    from campaign.sessions import revoke_all

    if len(password) < MIN_PASSWORD:
        raise ValueError(f"passwords need at least {MIN_PASSWORD} characters")
    with db.atomic():
        Account.update(
            password_hash=generate_password_hash(password), failed_logins=0, locked_until=None
        ).where(Account.id == account.id).execute()
        revoke_all(account)
        record(actor, "account.reset_password", account)
    return Account.get_by_id(account.id)


def may_see_pii(account: Account) -> bool:
    """Contacts' phone numbers: admins, and the accounts an admin gave the right."""
    return account.role == "admin" or bool(account.pii)


def set_pii(account: Account, allowed: bool, actor: str) -> Account:
    """Give or take the right to see contacts' phone numbers; audited."""
    with db.atomic():
        Account.update(pii=allowed).where(Account.id == account.id).execute()
        record(actor, "account.pii", account, {"pii": account.pii}, {"pii": allowed})
    return Account.get_by_id(account.id)


def masked_phone(phone: str) -> str:
    """138****5678: what accounts without the right see."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"
