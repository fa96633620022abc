"""`/q/<code>`: the plain-link QR landing — record the scan, redirect.

The hottest endpoint of the product (every poster scan outside the mini-program lands
here), so the request checks the code in memory, queues the touch for Redis
(`pages.scan_buffer.record_scan`: sent with the other scans of the next few milliseconds) and
redirects; no database, no network round trip. Inside WeChat the scan goes on to the
official-account OAuth (which logs the user in and attributes them to the channel),
anywhere else to the H5 page that explains the campaign. A long-lived cookie gives each
browser an anonymous visitor id so the funnel can count unique scanners.
"""

import logging
import re
import secrets

from flask import Blueprint, Response, current_app, render_template, request
from redis import RedisError

from campaign.channels.codes import CODE_PATTERN
from campaign.channels.departments import is_live
from config import current_settings
from models import Department
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
    if not CODE_PATTERN.match(code):
        return _unknown()
    visitor = request.cookies.get(VISITOR_COOKIE, "")
    fresh = not VISITOR_PATTERN.match(visitor)
    if fresh:
        visitor = secrets.token_urlsafe(12)
    in_wechat = "micromessenger" in request.headers.get("User-Agent", "").lower()
    try:
        live = record_scan(code, visitor, "wechat" if in_wechat else "other")
    except RedisError:  # the visitor still gets through; only this scan's count is lost
        log.warning("scan not recorded: Redis unavailable", extra={"fields": {"code": code}})
        live = is_live(code)
    if not live:
        return _unknown()
    target = f"/wechat/oauth/start?c={code}" if in_wechat else f"/h5/?c={code}"
    # A bare 302 (no HTML body to build); no-store: every scan must reach us to be counted.
    response = Response(status=302, headers={"Location": target, "Cache-Control": "no-store"})
    if fresh:
        response.set_cookie(
            VISITOR_COOKIE,
            visitor,
            max_age=VISITOR_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=current_settings().public_base_url.startswith("https://"),
        )
    return response


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
