"""Password accounts for departments: the fallback an organizer issues when a member cannot
scan the console's login QR. The account signs in like any console account (scrypt,
lockout) and sees exactly what the department's WeChat members see."""

from campaign.accounts import create_account
from campaign.audit import record
from campaign.channels.recommending import departments_of
from models import Account, Department, DepartmentAccount, WechatUser, db


def issue(department: Department, username: str, password: str, actor: str) -> Account:
    """A new `department` account bound to `department` (ValueError for a short password)."""
    with db.atomic():
        account = create_account(
            username, password, "department", department.name, department.campaign
        )
        DepartmentAccount.create(account=account, department=department)
        record(actor, "department.account_issue", department, None, {"account": account.id})
    return account


def member_departments(who: Account | WechatUser | None) -> list[Department]:
    """The active departments a console user acts for: a WeChat member's by binding, a
    department account's by issue; nobody else has any."""
    if isinstance(who, WechatUser):
        return departments_of(who)
    if isinstance(who, Account) and who.role == "department":
        return list(
            Department.select()
            .join(DepartmentAccount)
            .where((DepartmentAccount.account == who.id) & Department.active)
        )
    return []
