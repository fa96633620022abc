"""Experts: console accounts (role "expert") with a profile saying which domains they judge,
where they work (a department, a unit, or a name), their region and their cap.

The organization is kept by id when it is a department or unit of the campaign, so conflict
rules compare ids, never names (openreview#301). An expert binds WeChat with a one-time code
so that review reminders reach them.
"""

import secrets

from campaign.accounts import create_account
from campaign.audit import record
from campaign.definition import options
from campaign.problems import is_row_id, is_whole_number, problem
from campaign.review.refusals import REVIEW_MESSAGES, Invalid, Refused
from models import Account, Campaign, Department, ExpertProfile, Unit, WechatUser, db

MAX_CAP = 2000
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def _problem(field: str, code: str, **details) -> dict:
    return problem(field, code, REVIEW_MESSAGES, **details)


def check_profile(campaign: Campaign, data: dict, creating: bool) -> dict:
    """Clean profile fields present in `data`; raise Invalid listing every problem."""
    clean, problems = {}, []
    domains = {o.code for o in options(campaign, "domain")}
    if "domains" in data or creating:
        value = data.get("domains")
        if not isinstance(value, list) or not value:
            problems.append(_problem("domains", "required"))
        elif not all(isinstance(d, str) and d in domains for d in value):
            problems.append(_problem("domains", "invalid_choice", choices=sorted(domains)))
        else:
            clean["domains"] = sorted(set(value))
    if "cap" in data or creating:
        cap = data.get("cap", 120)
        if not is_whole_number(cap) or not 1 <= cap <= MAX_CAP:
            problems.append(_problem("cap", "out_of_range", min=1, max=MAX_CAP))
        else:
            clean["cap"] = cap
    for name, limit in (("organization", 200), ("region", 64), ("system", 32)):
        if name in data:
            value = data[name]
            if not isinstance(value, str) or len(value) > limit:
                problems.append(_problem(name, "invalid_type"))
            else:
                clean[name] = value.strip()
    for name, model in (("department", Department), ("unit", Unit)):
        if name in data:
            clean[name] = _row(campaign, model, name, data[name], problems)
    if problems:
        raise Invalid(problems)
    return clean


def _row(campaign, model, name, value, problems):
    if value is None:
        return None
    row = (
        model.get_or_none((model.id == value) & (model.campaign == campaign))
        if is_row_id(value)
        else None
    )
    if row is None:
        problems.append(_problem(name, "not_found"))
    return row


def invite(campaign: Campaign, data: dict, actor: str) -> tuple[ExpertProfile, str]:
    """A new expert account and profile; return the profile and the initial password (shown
    once; given when `password` is absent)."""
    problems = []
    username, name = data.get("username"), data.get("display_name")
    if not isinstance(username, str) or not 3 <= len(username) <= 64:
        problems.append(_problem("username", "required"))
    elif Account.select().where(Account.username == username).exists():
        problems.append(_problem("username", "duplicate"))
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        problems.append(_problem("display_name", "required"))
    password = data.get("password") or secrets.token_urlsafe(12)
    if not isinstance(password, str) or len(password) < 10:
        problems.append(_problem("password", "too_short", min=10))
    try:
        clean = check_profile(campaign, data, creating=True)
    except Invalid as invalid:
        problems += invalid.problems
    if problems:
        raise Invalid(problems)
    if "organization" not in clean:
        clean["organization"] = _organization_name(clean)
    if not clean.get("system") and clean.get("department"):
        clean["system"] = clean["department"].route
    with db.atomic():
        account = create_account(username, password, "expert", name.strip(), campaign)
        profile = ExpertProfile.create(account=account, campaign=campaign, **clean)
        record(actor, "expert.invite", profile, None, profile_view(profile), campaign.id)
    return profile, password


def _organization_name(clean: dict) -> str:
    row = clean.get("department") or clean.get("unit")
    return row.name if row is not None else ""


def update(profile: ExpertProfile, data: dict, actor: str) -> ExpertProfile:
    clean = check_profile(profile.campaign, data, creating=False)
    with db.atomic():
        before = profile_view(profile)
        if clean:  # `{"active": false}` alone changes only the account
            ExpertProfile.update(**clean).where(ExpertProfile.id == profile.id).execute()
        if "active" in data and isinstance(data["active"], bool):
            Account.update(active=data["active"]).where(Account.id == profile.account_id).execute()
        fresh = ExpertProfile.get_by_id(profile.id)
        record(actor, "expert.update", profile, before, profile_view(fresh), profile.campaign_id)
    return fresh


def profile_view(profile: ExpertProfile) -> dict:
    account = profile.account
    return {
        "id": account.id,
        "username": account.username,
        "display_name": account.display_name,
        "active": account.active,
        "domains": profile.domains,
        "organization": profile.organization,
        "department": profile.department_id,
        "unit": profile.unit_id,
        "system": profile.system,
        "region": profile.region,
        "cap": profile.cap,
        "wechat_bound": account.wechat_user_id is not None,
    }


def profiles(campaign: Campaign) -> list[ExpertProfile]:
    """The campaign's experts with active accounts, by account id."""
    return list(
        ExpertProfile.select(ExpertProfile, Account)
        .join(Account)
        .where((ExpertProfile.campaign == campaign) & Account.active)
        .order_by(Account.id)
    )


def profile_of(account: Account) -> ExpertProfile | None:
    return ExpertProfile.get_or_none(ExpertProfile.account == account)


def issue_bind_code(profile: ExpertProfile) -> str:
    """A fresh one-time code the expert types in the mini-program to bind their WeChat."""
    code = "E" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(9))
    ExpertProfile.update(bind_code=code).where(ExpertProfile.id == profile.id).execute()
    return code


def bind_wechat(code: str, user: WechatUser) -> Account:
    """Bind the WeChat user to the expert whose code this is; the code is used up."""
    profile = ExpertProfile.get_or_none(ExpertProfile.bind_code == code) if code else None
    if profile is None:
        raise Refused("bind_code_invalid", "绑定码无效或已使用")
    with db.atomic():
        ExpertProfile.update(bind_code=None).where(ExpertProfile.id == profile.id).execute()
        Account.update(wechat_user=user).where(Account.id == profile.account_id).execute()
        record(f"user:{user.id}", "expert.bind_wechat", profile.account, None, {"user": user.id})
    return Account.get_by_id(profile.account_id)
