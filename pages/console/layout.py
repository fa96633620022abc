"""What every console page shares: who may see it, rendering (whole page or, for htmx, one
named block of the same template), pagination, and Chinese number and date formats.

Refusals are the API's `ApiError`: an htmx request gets the JSON error (the page script
shows its Chinese message), a full page load gets the error page with the same message.
"""

import json
from functools import wraps

from flask import g, redirect, render_template, request, url_for
from jinja2_fragments.flask import render_block

from api.errors import ApiError
from campaign.clock import to_local
from campaign.definition import current_campaign
from campaign.department_accounts import member_departments
from campaign.entries import status
from models import Account, Campaign
from pages import websession

PAGE_SIZE = 20
LABELS = {
    "entry": status.LABELS,
    "notice": {
        "draft": "草稿",
        "scheduled": "已定时",
        "preparing": "准备中",
        "sending": "发送中",
        "paused": "已暂停",
        "done": "已完成",
        "cancelled": "已取消",
    },
    "delivery": {
        "pending": "待发送",
        "sending": "发送中",
        "sent": "已送达",
        "failed": "失败",
        "no_consent": "未授权",
        "unknown": "结果未知",
    },
    "check": {
        "unchecked": "未检测",
        "pending": "检测中",
        "pass": "通过",
        "review": "疑似",
        "risky": "违规",
        "cleared": "已放行",
        "blocked": "已屏蔽",
    },
    "reason": {
        "no_grant": "未授权订阅消息",
        "not_following": "未关注公众号",
        "user_blocked": "用户拒收",
        "delivery_failed": "微信投递失败",
        "lease_expired": "发送中断，结果未知",
        "resent": "已重发",
    },
    "role": {
        "admin": "管理员",
        "organizer": "组织者",
        "expert": "评审专家",
        "department": "推荐单位账号",
    },
}
TIMEZONE = "Asia/Shanghai"


def role_of(who) -> str | None:
    """organizer | admin | expert for console accounts; department for WeChat members and
    department accounts that act for an active department; None for anyone else."""
    if isinstance(who, Account) and who.role != "department":
        return who.role
    if member_departments(who):
        return "department"
    return None


def _signed_in():
    who = websession.holder()
    role = role_of(who)
    if role is None:
        if request.headers.get("HX-Request"):
            raise ApiError(401, "unauthorized", "登录已过期，请重新登录")
        raise _Redirect(url_for("console.auth.login", next=request.path))
    g.console_who, g.console_role = who, role
    return who, role


class _Redirect(Exception):
    def __init__(self, location: str):
        super().__init__(location)
        self.location = location


def page_for(*roles: str):
    """Let only these roles (admins pass every account page) see the view."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            _, role = _signed_in()
            allowed = role in roles or (role == "admin" and "department" not in roles)
            if not allowed:
                raise ApiError(403, "forbidden", "没有权限访问此页面")
            return view(*args, **kwargs)

        return wrapped

    return decorate


def account() -> Account:
    return g.console_who


def actor() -> str:
    """How audit rows name the signed-in person."""
    who = g.console_who
    return f"account:{who.id}" if isinstance(who, Account) else f"user:{who.id}"


def campaign_or_404() -> Campaign:
    campaign = current_campaign()
    if campaign is None:
        raise ApiError(404, "no_campaign", "当前没有进行中的征集活动")
    return campaign


def render(template_name: str, block: str | None = None, /, **context):
    """The page, or only `block` of it when htmx asks (`HX-Request`); a history restore
    (the back button after `hx-push-url`) gets the whole page."""
    partial = request.headers.get("HX-Request") and not request.headers.get(
        "HX-History-Restore-Request"
    )
    if block and partial:
        return render_block(template_name, block, **context)
    return render_template(template_name, **context)


def paginate(query, size: int = PAGE_SIZE) -> dict:
    """`?page=` of a peewee query: the rows and what the pager needs."""
    total = query.count()
    pages = max((total + size - 1) // size, 1)
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    rows = list(query.paginate(page, size))
    return {"rows": rows, "total": total, "page": page, "pages": pages}


def paginate_rows(rows: list, size: int = PAGE_SIZE) -> dict:
    """`?page=` of rows already in a list (rules that answer lists, not queries)."""
    pages = max((len(rows) + size - 1) // size, 1)
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    shown = rows[(page - 1) * size : page * size]
    return {"rows": shown, "total": len(rows), "page": page, "pages": pages}


def page_url(number: int) -> str:
    args = request.args.to_dict()
    args["page"] = number
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def number(value) -> str:
    """1234567 → 1,234,567 (floats keep one decimal)."""
    if not isinstance(value, int | float):
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"


def local_time(moment, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Naive UTC from the database → Asia/Shanghai text."""
    return "—" if moment is None else to_local(moment, TIMEZONE).strftime(fmt)


def percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def setup(bp) -> None:
    """Filters, globals and the error handling of the console blueprint."""

    @bp.app_template_filter("num")
    def _num(value):
        return number(value)

    @bp.app_template_filter("local")
    def _local(value, fmt="%Y-%m-%d %H:%M"):
        return local_time(value, fmt)

    @bp.app_template_filter("pct")
    def _pct(value):
        return percent(value)

    @bp.app_template_filter("cjson")
    def _cjson(value):
        """JSON as people read it: Chinese as is, not \\u escapes."""
        return json.dumps(value, ensure_ascii=False, default=str)

    @bp.app_context_processor
    def _context():
        if "web_nonce" not in g:
            return {}
        return {
            "csrf_token": websession.csrf_token(),
            "who": g.get("console_who"),
            "role": g.get("console_role"),
            "page_url": page_url,
            "labels": LABELS,
        }

    @bp.errorhandler(_Redirect)
    def _redirect(error: _Redirect):
        return redirect(error.location)

    @bp.errorhandler(ApiError)
    def _refused(error: ApiError):
        if request.headers.get("HX-Request") or request.accept_mimetypes.best == "application/json":
            from api.errors import error_response

            return error_response(error.status, error.code, error.message, error.fields)
        return render_template(
            "console/error.html", status=error.status, message=error.message, fields=error.fields
        ), error.status
