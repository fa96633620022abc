"""Console accounts, for admins only: create, disable or enable, reset a password, give or
take the right to see contacts' phone numbers (PII). Every
change is `campaign.accounts`' rule, audited, and a disabled or reset account loses every
session at once."""

from flask import Blueprint, request

from api.errors import ApiError
from campaign.accounts import ROLES, create_account, reset_password, set_active, set_pii
from campaign.definition import current_campaign
from models import Account
from pages.console.layout import account, actor, page_for, paginate, render

bp = Blueprint("accounts", __name__)
CONSOLE_ROLES = tuple(r for r in ROLES if r != "department")  # those are issued per department


@bp.get("/accounts")
@page_for("admin")
def index():
    return _page()


@bp.post("/accounts")
@page_for("admin")
def create():
    form = request.form
    username = form.get("username", "").strip()[:64]
    role = form.get("role", "")
    problems = []
    if not username:
        problems.append({"field": "username", "code": "required", "message": "请填写用户名"})
    elif Account.get_or_none(Account.username == username):
        problems.append({"field": "username", "code": "taken", "message": "用户名已被使用"})
    if role not in CONSOLE_ROLES:
        problems.append({"field": "role", "code": "invalid_choice", "message": "请选择角色"})
    if len(form.get("password", "")) < 10:
        problems.append({"field": "password", "code": "too_short", "message": "密码至少 10 位"})
    if problems:
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", problems)
    campaign = None if role == "admin" else current_campaign()
    name = form.get("display_name", "").strip()[:100] or username
    create_account(username, form["password"], role, name, campaign)
    return _page("console/accounts.html", "table")


@bp.post("/accounts/<int:account_id>/<any(enable, disable):action>")
@page_for("admin")
def toggle(account_id: int, action: str):
    target = _account(account_id)
    if target.id == account().id:
        raise ApiError(409, "own_account", "不能停用自己的账号")
    set_active(target, action == "enable", actor())
    return _page("console/accounts.html", "table")


@bp.post("/accounts/<int:account_id>/pii/<any(grant, revoke):action>")
@page_for("admin")
def pii(account_id: int, action: str):
    set_pii(_account(account_id), action == "grant", actor())
    return _page("console/accounts.html", "table")


@bp.post("/accounts/<int:account_id>/password")
@page_for("admin")
def password(account_id: int):
    try:
        reset_password(_account(account_id), request.form.get("password", ""), actor())
    except ValueError:
        raise ApiError(
            422,
            "validation_failed",
            "密码至少 10 位",
            [{"field": "password", "code": "too_short", "message": "密码至少 10 位"}],
        ) from None
    return _page("console/accounts.html", "table")


def _page(template: str = "console/accounts.html", block: str | None = None):
    query = Account.select().order_by(Account.id)
    return render(template, block, pager=paginate(query), roles=CONSOLE_ROLES)


def _account(account_id: int) -> Account:
    found = Account.get_or_none(Account.id == account_id)
    if found is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return found
