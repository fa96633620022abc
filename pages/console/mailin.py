"""Organizer page over the winners' mail-in (材料寄送): every winner's status (待寄送,
已签收, 材料不全, 材料齐全) with what is missing, a status filter, and the Excel export.

The rules are `campaign.mailin`, as for the API. Receiving packages is the mailroom's scan
page (`/console/mailroom/scan`), not this one."""

from flask import Blueprint, request

from api.files import document
from campaign.mailin import rules
from campaign.mailin.export import workbook
from pages.console.layout import campaign_or_404, page_for, paginate_rows, render

bp = Blueprint("mailin", __name__)


@bp.get("/mailin")
@page_for("organizer")
def index():
    campaign = campaign_or_404()
    everyone = rules.winners(campaign)
    wanted = request.args.get("status", "")
    shown = (
        [f for f in everyone if f.mailin.status == wanted] if wanted in rules.STATUSES else everyone
    )
    labels = {item.code: item.label for item in rules.ITEMS}
    return render(
        "console/mailin.html",
        "results",
        pager=paginate_rows(shown),
        counts=rules.status_counts(everyone),
        total=len(everyone),
        wanted=wanted if wanted in rules.STATUSES else "",
        statuses=rules.STATUS_LABELS,
        items=labels,
    )


@bp.get("/mailin/export.xlsx")
@page_for("organizer")
def export():
    return document(workbook(campaign_or_404()), "入选材料邮寄情况.xlsx", "mailin.xlsx")
