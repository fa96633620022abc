"""Console accounts (organizers, experts, admins, departments): passwords, lockout, roles.

Passwords are hashed with Werkzeug's scrypt. Five wrong passwords lock a user name for 15
minutes (等保 "登录失败处理"); the lock and every sign-in are audited.

The lock is counted per user name in Redis (api/console/auth.py, tasks/limits.py), the
same way for names that exist and names that do not, and each attempt is counted *before*
its password is checked, so parallel guesses cannot outrun it. An unknown name costs one
scrypt, like a known one, so timing tells nothing either. The account row keeps the count
and the lock for organizers to see; it is written atomically and never read to decide.
"""

import datetime
import secrets
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

from campaign.audit import record
from campaign.names import clean_name
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
    username: str,
    password: str,
    role: str,
    display_name: str,
    campaign: Campaign | None = None,
    all_campaigns: bool = False,
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
            display_name=clean_name(display_name),
            campaign=campaign,
            all_campaigns=all_campaigns,
        )
        record("system", "account.create", account, None, {"username": username, "role": role})
    return account


@cache
def _dummy_hash() -> str:
    """A hash of nothing, made once, with the same scrypt parameters as real ones."""
    return generate_password_hash(secrets.token_urlsafe(16))


def covers(account: Account, campaign: Campaign) -> bool:
    """Whether `account` may work on `campaign` (issue 11): organizers and experts belong to
    one campaign unless created explicitly for every campaign; admins run the service and
    see every campaign."""
    return account.role == "admin" or account.all_campaigns or account.campaign_id == campaign.id


def authenticate(username: str, password: str, attempt: int = 1) -> Account:
    """The account, if the password is right and it may sign in; else SignInRefused.

    `attempt` is this name's attempt number in the lock window (counted by the caller
    before calling): the MAX_FAILURES-th wrong one records the lock on the account."""
    account = Account.get_or_none(Account.username == username)
    if account is None:
        check_password_hash(_dummy_hash(), password)  # one scrypt, as for a known name
        raise SignInRefused("bad_credentials")
    if not check_password_hash(account.password_hash, password):
        _count_failure(account, attempt >= MAX_FAILURES)
        raise SignInRefused("bad_credentials")
    if not account.active:
        raise SignInRefused("account_disabled")
    Account.update(failed_logins=0, locked_until=None).where(Account.id == account.id).execute()
    record(f"account:{account.id}", "account.sign_in", account)
    return account


def _count_failure(account: Account, locks: bool) -> None:
    """Add one failure in the database itself (`failed_logins + 1`: no lost update)."""
    now = utcnow()
    with db.atomic():
        changes = {"failed_logins": Account.failed_logins + 1}
        if locks:
            changes["locked_until"] = now + LOCK_FOR
        Account.update(**changes).where(Account.id == account.id).execute()
        if locks:
            until = str(now + LOCK_FOR)
            record(f"account:{account.id}", "account.locked", account, None, {"until": until})


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
