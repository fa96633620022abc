"""`/h5/`: the campaign, how to take part, signing in (or how to open the page in WeChat);
`/h5/home` for signed-in units; the page's QR code; the two scripts the pages load."""

from pathlib import Path

from flask import Blueprint, Response, redirect, render_template, request, send_file

from api.access import own_unit
from campaign.channels.codes import CODE_PATTERN
from campaign.clock import to_local
from campaign.definition import current_campaign, options
from config import current_settings
from drawing.qrdraw import link_png
from models import Entry
from pages import websession
from pages.h5.common import in_wechat, signed_in, the_campaign
from pages.h5.entries import my_entries

bp = Blueprint("landing", __name__)

ROOT = Path(__file__).resolve().parents[2]
WORDCOUNT_JS = ROOT / "docs" / "wordcount.js"  # the one copy of the counting rule, served as is
STATIC = ROOT / "pages" / "static" / "h5"


def _code() -> str | None:
    code = request.args.get("c", "")
    return code if CODE_PATTERN.match(code) else None


def page_url(code: str | None) -> str:
    """The address a QR code should carry for this landing page (with its channel)."""
    base = current_settings().public_base_url
    return f"{base}/h5/?c={code}" if code else f"{base}/h5/"


@bp.get("/")
def landing():
    campaign = current_campaign()
    if campaign is None:
        return render_template(
            "h5/message.html", title="征集活动", message="当前没有进行中的征集活动。"
        ), 404
    code = _code()
    start = f"/wechat/oauth/start?c={code}" if code else "/wechat/oauth/start"
    return render_template(
        "h5/landing.html",
        campaign=campaign,
        code=code,
        start=start,
        in_wechat=in_wechat(),
        page_link=page_url(code),
        notice=None,
        opens=f"{to_local(campaign.opens_at, campaign.timezone):%Y年%-m月%-d日}",
        closes=f"{to_local(campaign.closes_at, campaign.timezone):%Y年%-m月%-d日}",
        limits=campaign.limits,
        domains=options(campaign, "domain"),
        criteria=options(campaign, "criterion"),
        contact=campaign.contact,
    )


@bp.get("/qr.png")
def page_qr():
    """This page's address as a QR code, to scan with WeChat from a computer's screen."""
    return Response(link_png(page_url(_code()), 6), mimetype="image/png")


@bp.get("/home")
def home():
    user = signed_in()
    campaign = the_campaign()
    unit = own_unit(campaign)
    entries = my_entries(campaign, user) if unit else Entry.select().where(Entry.id == 0)
    return render_template("h5/home.html", campaign=campaign, unit=unit, entries=list(entries))


@bp.post("/logout")
def logout():
    response = redirect("/h5/", 303)
    websession.end(response)
    return response


@bp.get("/static/wordcount.js")
def wordcount_js():
    return send_file(WORDCOUNT_JS, mimetype="text/javascript", max_age=300)


@bp.get("/static/<any('h5.js', 'h5.css'):name>")
def asset(name: str):
    mimetype = "text/javascript" if name.endswith(".js") else "text/css"
    return send_file(STATIC / name, mimetype=mimetype, max_age=300)
