"""Who is calling: the bearer token's WeChat user or console account, looked up per request."""

from functools import wraps

from flask import g, request

from api.errors import ApiError
from campaign.accounts import covers
from campaign.definition import current_campaign
from campaign.sessions import account_of, live_session, user_of


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _session():
    """The bearer token's live session, read once per request; the current campaign comes
    with it, so `request_campaign` needs no query of its own."""
    if "session" not in g:
        g.session = live_session(bearer_token())
        if g.session is not None:
            g.setdefault("current_campaign", g.session.current_campaign)
    return g.session


def current_user():
    """The logged-in WeChat user, or 401 `unauthorized`."""
    if "user" not in g:
        g.user = user_of(_session())
    if g.user is None:
        raise ApiError(401, "unauthorized", "请先登录", headers={"WWW-Authenticate": "Bearer"})
    return g.user


def login_required(view):
    """Refuse the view to anonymous callers before it runs."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        current_user()
        return view(*args, **kwargs)

    return wrapped


def current_account():
    """The signed-in console account, or 401 `unauthorized`."""
    if "account" not in g:
        g.account = account_of(_session())
    if g.account is None:
        raise ApiError(401, "unauthorized", "请先登录", headers={"WWW-Authenticate": "Bearer"})
    return g.account


def role_required(*roles: str):
    """Refuse the view unless a console account with one of `roles` is calling (admins pass)."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            account = current_account()
            if account.role not in roles and account.role != "admin":
                raise ApiError(403, "forbidden", "没有权限进行此操作")
            campaign = request_campaign()
            if campaign is not None and not covers(account, campaign):
                raise ApiError(403, "wrong_campaign", "该账号不属于当前征集活动")
            return view(*args, **kwargs)

        return wrapped

    return decorate


def request_campaign():
    """The current campaign (or None), read once per request: the role check and the view
    both need it, and a second identical SELECT would be a round trip for nothing."""
    if "current_campaign" not in g:
        g.current_campaign = current_campaign()
    return g.current_campaign


def console_actor() -> str:
    """How audit rows name the signed-in console account."""
    return f"account:{current_account().id}"
