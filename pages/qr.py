"""`/q/<code>`: the plain-link QR landing — record the scan, redirect.

The hottest endpoint of the product (every poster scan outside the mini-program lands
here), so the request checks the code in memory, queues the touch for Redis
(`pages.scan_buffer.record_scan`: sent with the other scans of the next few milliseconds) and
redirects; no database, no network round trip. Inside WeChat the scan goes on to the
official-account OAuth (which logs the user in and attributes them to the channel),
anywhere else to the H5 page that explains the campaign. A long-lived cookie gives each
browser an anonymous visitor id so the funnel can count unique scanners.

A scan of a live code is answered by `FastScans` before Flask routes it (the same `land`,
minus Flask's request context, routing, hooks and response object: two thirds of the
endpoint's instructions, bench/instructions.py). Anything else (an unknown code, Redis
down, HEAD) goes on to the Flask view, which answers it with the usual pages.
"""

import logging
import re
import secrets
import time

from flask import Blueprint, Response, current_app, render_template, request
from redis import RedisError
from werkzeug.http import dump_cookie

from api.request_hooks import adopt_request_id, observe
from campaign.channels.codes import CODE_PATTERN
from campaign.channels.departments import is_live
from config import current_settings
from models import Department, db
from pages.scan_buffer import record_scan

bp = Blueprint("qr_landing", __name__, template_folder="templates")
log = logging.getLogger(__name__)

VISITOR_COOKIE = "cv"
VISITOR_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16}$")
VISITOR_MAX_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie (Chrome's cap)
INVITE_PATTERN = re.compile(r"^[0-9a-z]{8,32}$")


@bp.get("/q/<code>")
def scan(code: str):
    """Record the scan and send the visitor on; a friendly 404 page for unknown codes."""
    if not CODE_PATTERN.match(code) or request.environ.get(UNKNOWN_MARK):
        return _unknown()
    visitor = request.cookies.get(VISITOR_COOKIE, "")
    user_agent = request.headers.get("User-Agent", "")
    try:
        headers = land(code, visitor, user_agent)
    except RedisError:  # the visitor still gets through; only this scan's count is lost
        log.warning("scan not recorded: Redis unavailable", extra={"fields": {"code": code}})
        headers = _redirect(code, visitor, user_agent) if is_live(code) else None
    if headers is None:
        return _unknown()
    return Response(status=302, headers=headers)


def land(code: str, visitor: str, user_agent: str) -> list[tuple[str, str]] | None:
    """Record a scan of a live `code`; the redirect's headers, or None for an unknown code.
    Raises RedisError when the code cannot be checked (nothing is recorded then)."""
    fresh = not VISITOR_PATTERN.match(visitor)
    if fresh:
        visitor = secrets.token_urlsafe(12)
    in_wechat = "micromessenger" in user_agent.lower()
    if not record_scan(code, visitor, "wechat" if in_wechat else "other"):
        return None
    return _redirect(code, visitor if fresh else "", user_agent)


def _redirect(code: str, new_visitor: str, user_agent: str) -> list[tuple[str, str]]:
    """A bare 302 (no HTML body to build); no-store: every scan must reach us to be counted.
    `new_visitor`, when not empty, is set as the visitor cookie."""
    in_wechat = "micromessenger" in user_agent.lower()
    target = f"/wechat/oauth/start?c={code}" if in_wechat else f"/h5/?c={code}"
    headers = [("Location", target), ("Cache-Control", "no-store")]
    if new_visitor and VISITOR_PATTERN.match(new_visitor):
        secure = current_settings().public_base_url.startswith("https://")
        cookie = dump_cookie(
            VISITOR_COOKIE,
            new_visitor,
            max_age=VISITOR_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=secure,
        )
        headers.append(("Set-Cookie", cookie))
    return headers


VISITOR_IN_COOKIES = re.compile(r"(?:^|;)\s*cv=([^;]*)")
UNKNOWN_MARK = "campaign.unknown_code"  # FastScans found the code unknown: Flask needn't ask


class FastScans:
    """WSGI middleware: answer a GET of `/q/<code>` for a live code without Flask; hand
    anything else (unknown code, Redis down, any error) to Flask untouched."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/q/") or environ.get("REQUEST_METHOD") != "GET":
            return self.wsgi_app(environ, start_response)
        code = path[3:]
        if not CODE_PATTERN.match(code):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        found = VISITOR_IN_COOKIES.search(environ.get("HTTP_COOKIE", ""))
        visitor, user_agent = found.group(1) if found else "", environ.get("HTTP_USER_AGENT", "")
        try:
            headers = land(code, visitor, user_agent)
        except Exception:  # Redis down, …: Flask answers it, with its fallbacks and logs
            return self.wsgi_app(environ, start_response)
        finally:
            if not db.is_closed():  # a code new to this process was looked up
                db.close()
        if headers is None:
            environ[UNKNOWN_MARK] = True
            return self.wsgi_app(environ, start_response)
        request_id = adopt_request_id(environ)
        headers += [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", "0"),
            ("X-Request-Id", request_id),
        ]
        start_response("302 FOUND", headers)
        observe("qr_landing.scan", "GET", "302", started)
        return [b""]


bp.record_once(lambda state: setattr(state.app, "wsgi_app", FastScans(state.app.wsgi_app)))


@bp.get("/q/i/<invite_code>")
def invite(invite_code: str):
    """A department's invite QR scanned outside the mini-program: say where to bind."""
    department = None
    if INVITE_PATTERN.match(invite_code):
        department = Department.get_or_none(
            (Department.invite_code == invite_code) & Department.active
        )
    if department is None:
        return render_template("qr/invite.html", department=None), 404
    return render_template("qr/invite.html", department=department)


def _unknown():
    response = current_app.make_response((render_template("qr/unknown.html"), 404))
    response.headers["Cache-Control"] = "no-store"
    return response
