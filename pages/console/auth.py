"""Signing in and out: console accounts by password; department members by scanning a
one-time official-account QR (`campaign.console_login`); logout and sign out everywhere."""

import requests
from flask import Blueprint, Response, make_response, redirect, request, url_for
from wechatpy.exceptions import WeChatClientException

from api.console.auth import REFUSALS, sign_in
from api.errors import ApiError
from campaign import console_login
from campaign.accounts import SignInRefused
from drawing.qrdraw import link_png
from pages import websession
from pages.console.layout import render, role_of
from tasks.queue import redis_connection
from wechat.client import mp_client

bp = Blueprint("auth", __name__)

HOME = {
    "admin": "console.dashboard.home",
    "organizer": "console.dashboard.home",
    "expert": "console.expert.home",
    "department": "console.dept.home",
}


def _home(who) -> str:
    return url_for(HOME.get(role_of(who) or "", "console.auth.login"))


def _next_or(default: str) -> str:
    target = request.values.get("next", "")
    safe = target.startswith("/console/") and not target.startswith("/console//")
    return target if safe and "\\" not in target else default


@bp.get("/login")
def login():
    who = websession.holder()
    if role_of(who):
        return redirect(_home(who))
    return render("console/login.html", next=request.args.get("next", ""), error=None)


@bp.post("/login")
def login_post():
    username = request.form.get("username", "").strip()[:64]
    password = request.form.get("password", "")[:256]
    try:
        account = sign_in(username, password)
    except SignInRefused as refused:
        status, message = REFUSALS[refused.code]
        page = render(
            "console/login.html",
            next=request.form.get("next", ""),
            error=message,
            username=username,
        )
        return page, status
    response = redirect(_next_or(_home(account)), 303)
    websession.begin(response, account)
    return response


@bp.post("/logout")
def logout():
    response = redirect(url_for("console.auth.login"), 303)
    websession.end(response)
    return response


@bp.post("/logout-everywhere")
def logout_everywhere():
    response = redirect(url_for("console.auth.login", signed_out="all"), 303)
    websession.end(response, everywhere=True)
    return response


# --- department members: the WeChat way ---------------------------------------------------


@bp.get("/dept/login")
def dept_login():
    return render("console/dept_login.html")


CODES_PER_ADDRESS = 20  # login QRs one address may ask for per window (each calls WeChat)
CODE_WINDOW = 600


@bp.post("/dept/login/code")
def dept_login_code():
    """A fresh one-time QR for this browser (htmx swaps it into the login page)."""
    key = f"console:login-codes:{request.remote_addr}"
    redis = redis_connection()
    asked = redis.incr(key)
    if asked == 1:
        redis.expire(key, CODE_WINDOW)
    if asked > CODES_PER_ADDRESS:
        raise ApiError(429, "too_many_requests", "获取二维码过于频繁，请 10 分钟后再试")

    def create_qr(scene: str, seconds: int) -> dict:
        return mp_client().qrcode.create(
            {
                "expire_seconds": seconds,
                "action_name": "QR_STR_SCENE",
                "action_info": {"scene": {"scene_str": scene}},
            }
        )

    try:
        code = console_login.start(websession.nonce(), create_qr)
    except (WeChatClientException, requests.RequestException):
        raise ApiError(503, "wechat_unavailable", "暂时无法获取登录二维码，请稍后再试") from None
    return render("console/dept_login.html", "qr", code=code, state="waiting")


@bp.get("/dept/login/<int:code_id>/qr.png")
def dept_login_qr(code_id: int):
    """The QR drawn here from WeChat's url, so the page never loads an image from elsewhere."""
    code = _browser_code(code_id)
    return Response(link_png(code.qr_url, 8), mimetype="image/png")


@bp.post("/dept/login/<int:code_id>/status")
def dept_login_status(code_id: int):
    """Polled by the page: once a member scanned, sign this browser in (once)."""
    code = _browser_code(code_id)
    state = console_login.state(code)
    if state == "scanned":
        member = console_login.claim(code)
        if member is not None:
            response = make_response("", 204)
            websession.begin(response, member)
            response.headers["HX-Redirect"] = url_for("console.dept.home")
            return response
        state = console_login.state(code)
    return render("console/dept_login.html", "status", code=code, state=state)


def _browser_code(code_id: int):
    code = console_login.browser_code(code_id, websession.nonce())
    if code is None:
        raise ApiError(404, "not_found", "二维码不存在或已失效")
    return code
