"""The organizer's dashboard: the campaign funnel, activity by day, routes, departments,
entries by domain and region, and the progress of notices being sent."""

from flask import Blueprint
from peewee import SQL, fn

from campaign.channels.funnel_views import overview, top_departments
from campaign.channels.funnels import STEPS, daily, daily_by_route, together
from campaign.definition import options
from campaign.notices import outbox
from models import Entry, Notice, Unit
from pages.console.layout import campaign_or_404, page_for, render

bp = Blueprint("dashboard", __name__)

DAILY_STEPS = ("scans", "units", "drafts", "submitted")


@bp.get("/")
@page_for("organizer")
def home():
    campaign = campaign_or_404()
    return render("console/dashboard.html", campaign=campaign, **figures(campaign))


def figures(campaign) -> dict:
    """Everything the dashboard shows, read from the database at once (`funnels.together`:
    its parts are independent); bench/funnel.py times it."""
    by_region, departments, view, days, by_domain, submitted, notices = together(
        lambda: _entries_by(campaign, Unit.region, None),  # the slowest first
        lambda: top_departments(campaign, "submitted", 10),
        lambda: overview(campaign),
        lambda: daily(campaign, "campaign"),
        lambda: _entries_by(campaign, Entry.domain, options(campaign, "domain")),
        lambda: daily_by_route(campaign, "submitted"),
        lambda: _live_notices(campaign),
    )
    labels = dict(STEPS)
    chart_days = {
        "days": [d["day"] for d in days],
        "series": [{"name": labels[s], "values": [d[s] for d in days]} for s in DAILY_STEPS],
    }
    return {
        "funnel": view["campaign"],
        "routes": view["routes"],
        "daily": chart_days,
        "by_route": _submitted_by_route(view["routes"], submitted, chart_days["days"]),
        "departments": departments,
        "by_domain": by_domain,
        "by_region": by_region,
        "notices": notices,
    }


def _submitted_by_route(routes, lines: dict, days: list[str]) -> dict:
    """Submissions per day (`funnels.daily_by_route`), one line per route, on the days of the
    campaign's chart."""
    series = [
        {"name": r["label"], "values": [lines.get(r["route"], {}).get(day, 0) for day in days]}
        for r in routes
    ]
    return {"days": days, "series": series}


def _entries_by(campaign, column, known) -> list[dict]:
    """Entries past draft per value of an entry column, or of their unit's (joined only then:
    an entry column is an index-only count)."""
    count = fn.COUNT(SQL("*"))
    query = Entry.select(column.alias("key"), count.alias("n"))
    if column.model is Unit:
        query = query.join(Unit, on=(Entry.unit == Unit.id))
    rows = (
        query.where((Entry.campaign == campaign) & (Entry.status != "draft"))
        .group_by(column)
        .order_by(count.desc())
        .dicts()
    )
    names = {o.code: o.label for o in known or []}
    return [{"name": names.get(r["key"], r["key"] or "未填写"), "count": r["n"]} for r in rows]


def _live_notices(campaign) -> list[dict]:
    rows = (
        Notice.select()
        .where((Notice.campaign == campaign) & (Notice.state != "draft"))
        .order_by(Notice.id.desc())
        .limit(5)
    )
    return [{"notice": n, "progress": outbox.progress(n.id)} for n in rows]
