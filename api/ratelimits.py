"""Rate limits on the public surface (issue 11): 429 `too_many_requests` with Retry-After.

`rate_limited("form")` guards any public form (objections and the like) per client IP;
named rules read their numbers from settings (docs/hardening.md lists them). The client IP
is nginx's `X-Real-IP` when the request came through a proxy on a private or loopback
address (nginx overwrites that header), else the peer address: a client cannot pick its
own rate-limit bucket.
"""

import ipaddress
from functools import wraps

from flask import request

from api.errors import ApiError
from api.security import current_user
from config import current_settings
from tasks import limits

WINDOW = 60  # every rule counts per minute
RULES = {  # rule → the Settings field giving its per-minute limit
    "login": "rate_login_per_ip",
    "upload": "rate_upload_per_user",
    "text_count": "rate_text_count_per_ip",
    "form": "rate_form_per_ip",
}


def client_ip() -> str:
    peer = request.remote_addr or ""
    forwarded = request.headers.get("X-Real-IP", "").strip()
    try:
        trusted = ipaddress.ip_address(peer).is_private
    except ValueError:
        trusted = False
    if trusted and forwarded:
        try:
            return str(ipaddress.ip_address(forwarded))
        except ValueError:
            pass
    return peer


def too_many(retry_after: int) -> ApiError:
    return ApiError(
        429,
        "too_many_requests",
        "操作过于频繁，请稍后再试",
        headers={"Retry-After": str(retry_after)},
    )


def enforce(rule: str, who: str) -> None:
    """Count one request of `who` under `rule`; 429 past the rule's limit."""
    limit = getattr(current_settings(), RULES[rule])
    verdict = limits.hit(f"{rule}:{who}", limit, WINDOW)
    if not verdict.allowed:
        raise too_many(verdict.retry_after)


def rate_limited(rule: str, per: str = "ip"):
    """Decorator: `per="ip"` counts by client IP; `per="user"` by the signed-in user (put it
    under `@login_required`)."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if per == "user":
                enforce(rule, f"user:{current_user().id}")
            else:
                enforce(rule, f"ip:{client_ip()}")
            return view(*args, **kwargs)

        return wrapped

    return decorate
