"""What the H5 pages share: who is signed in, whether this is WeChat's browser, choices."""

from flask import g, request

from campaign.definition import current_campaign, options
from campaign.problems import NotFound
from models import Campaign, WechatUser
from pages import websession


class SignInNeeded(Exception):
    """A page for signed-in units, opened without a session: back to the landing page."""


def signed_in() -> WechatUser:
    """The WeChat user of this H5 session, or SignInNeeded (a redirect to sign in)."""
    user = g.get("user")
    if user is None:
        raise SignInNeeded()
    return user


def in_wechat() -> bool:
    return "micromessenger" in request.headers.get("User-Agent", "").lower()


def the_campaign() -> Campaign:
    campaign = current_campaign()
    if campaign is None:
        raise NotFound("no_campaign", "当前没有进行中的征集活动")
    return campaign


def choices(campaign: Campaign) -> dict:
    """The option lists the forms offer (the same the rules accept)."""
    return {
        "tracks": options(campaign, "track"),
        "domains": options(campaign, "domain"),
        "themes": options(campaign, "theme"),
        "regions": campaign.regions or [],
        "org_levels": campaign.org_levels or [],
    }


def by_field(problems: list[dict]) -> dict[str, list[str]]:
    """`{"abstract": ["字数不足（150/200–500）"], …}`: every problem, next to its field."""
    found: dict[str, list[str]] = {}
    for item in problems:
        message = item.get("message", "")
        if item.get("code") == "evidence_missing":
            message += f"（已上传 {item.get('count', 0)} 份，至少 {item.get('min', 1)} 份）"
        elif "count" in item and ("min" in item or "max" in item):
            bounds = f"{item.get('min', 0)}–{item['max']}" if "max" in item else item["min"]
            message += f"（现 {item['count']} 字，要求 {bounds} 字）"
        found.setdefault(item.get("field") or "form", []).append(message)
    return found


def sign_in(response, user: WechatUser) -> None:
    """End the OAuth callback in an H5 cookie session (the console's mechanism, path /h5)."""
    g.web_names = websession.CookieNames(COOKIE_PREFIX, COOKIE_PATH)
    websession.begin(response, user)


COOKIE_PREFIX = "h5"
COOKIE_PATH = "/h5"
