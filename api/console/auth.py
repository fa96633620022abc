"""Console sign-in for organizers, experts and admins: bearer tokens, like the mini-program's."""

from flask import Blueprint, jsonify

from api.errors import ApiError
from api.payload import json_object, required_string
from api.ratelimits import rate_limited
from api.security import bearer_token, current_account
from campaign.accounts import LOCK_FOR, MAX_FAILURES, SignInRefused, authenticate
from campaign.clock import iso_local
from campaign.sessions import issue_token, revoke_token
from tasks import limits

bp = Blueprint("console_auth_api", __name__, url_prefix="/api/v1/console")

REFUSALS = {
    "bad_credentials": (401, "用户名或密码错误"),
    "account_locked": (423, "密码错误次数过多，账号已锁定 15 分钟"),
    "account_disabled": (403, "账号已停用"),
}


@bp.post("/login")
@rate_limited("login")
def login():
    data = json_object()
    username = required_string(data, "username", max_length=64)
    password = required_string(data, "password", max_length=256)
    try:
        account = sign_in(username, password)
    except SignInRefused as refused:
        status, message = REFUSALS[refused.code]
        retry = getattr(refused, "retry_after", None)
        headers = {"Retry-After": str(retry)} if retry else None
        raise ApiError(status, refused.code, message, headers=headers) from None
    token, expires_at = issue_token(account)
    return jsonify(
        token=token, expires_at=iso_local(expires_at, "UTC"), account=account_payload(account)
    )


def sign_in(username: str, password: str):
    """The account, or SignInRefused. The attempt is counted per name before the password is
    checked, for any name, known or not (campaign.accounts), by the API and the console."""
    name_key = limits.identity_key("console-login", username)
    attempt = limits.hit(name_key, MAX_FAILURES, int(LOCK_FOR.total_seconds()))
    if not attempt.allowed:
        refused = SignInRefused("account_locked")
        refused.retry_after = attempt.retry_after
        raise refused
    account = authenticate(username, password, attempt.count)
    limits.reset(name_key)
    return account


@bp.post("/logout")
def logout():
    current_account()
    revoke_token(bearer_token())
    return jsonify(status="ok")


@bp.get("/me")
def me():
    return jsonify(account_payload(current_account()))


def account_payload(account) -> dict:
    return {
        "id": account.id,
        "username": account.username,
        "display_name": account.display_name,
        "role": account.role,
        "campaign": account.campaign_id,
        "all_campaigns": account.all_campaigns,
    }
