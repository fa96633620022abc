"""Who is calling: the bearer token's user, looked up on the server for every request."""

from functools import wraps

from flask import g, request

from api.errors import ApiError
from campaign.sessions import user_for_token


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def current_user():
    """The logged-in WeChat user, or 401 `unauthorized`."""
    if "user" not in g:
        g.user = user_for_token(bearer_token())
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
