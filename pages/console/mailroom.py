"""The mailroom (收件): the winners' mail-in list, the scan page (USB scanner, typed code or
camera), and one package's checklist: tick, note what is missing, complete. The rules are
`campaign.mailin.rules`; scans go through the scan engine (`pages.console.scanning`), as
for the API."""

from flask import Blueprint, request

from api.errors import ApiError
from api.files import document
from campaign.mailin import rules
from campaign.mailin.export import workbook
from pages.console import scanning
from pages.console.layout import actor, campaign_or_404, page_for, paginate, render

bp = Blueprint("mailroom", __name__)


@bp.get("/mailroom")
@page_for("organizer")
def index():
    campaign = campaign_or_404()
    wanted = request.args.get("status") or None
    if wanted not in (None, *rules.STATUSES):
        wanted = None
    pager = paginate(rules.winners_query(campaign, status=wanted))
    pager["rows"] = [rules.as_winner(row) for row in pager["rows"]]
    return render(
        "console/mailroom_list.html",
        pager=pager,
        wanted=wanted,
        counts=rules.status_counts(campaign),
        labels_status=rules.STATUS_LABELS,
    )


@bp.get("/mailroom/scan")
@page_for("organizer")
def scan_page():
    campaign_or_404()
    return render("console/mailroom_scan.html")


@bp.post("/mailroom/scan")
@page_for("organizer")
def scan():
    return scanning.scan_one("mailin")


@bp.post("/mailroom/scan/batch")
@page_for("organizer")
def scan_batch():
    return scanning.scan_batch("mailin")


@bp.get("/mailroom/<int:mailin_id>")
@page_for("organizer")
def show(mailin_id: int):
    return render("console/mailroom_item.html", "panel", **_panel(_winner(mailin_id)))


@bp.post("/mailroom/<int:mailin_id>/checklist")
@page_for("organizer")
def checklist(mailin_id: int):
    """The checklist form: `save` ticks, `incomplete` notes the unticked items as missing,
    `complete` closes the package (refused while a required item is unticked)."""
    found = _winner(mailin_id)
    form = request.form
    items = {item.code: item.code in form.getlist("item") for item in rules.ITEMS}
    note = form.get("note", "").strip()
    action = form.get("action", "save")
    try:
        mailin = rules.tick(found.mailin, items, actor())
        if action == "incomplete":
            missing = [code for code, ticked in items.items() if not ticked]
            rules.mark_incomplete(mailin, missing, note, actor())
        elif action == "complete":
            rules.mark_complete(mailin, note or None, actor())
    except rules.MailInInvalid as invalid:
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", invalid.problems) from None
    except rules.MailInRefused as refused:
        raise ApiError(409, refused.code, refused.message, refused.problems) from None
    return render("console/mailroom_item.html", "panel", **_panel(_winner(mailin_id)))


@bp.get("/mailroom/export.xlsx")
@page_for("organizer")
def export():
    return document(workbook(campaign_or_404()), "入选材料邮寄情况.xlsx", "mailin.xlsx")


def _winner(mailin_id: int) -> rules.Winner:
    found = rules.winner(campaign_or_404(), mailin_id)
    if found is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return found


def _panel(found: rules.Winner) -> dict:
    return {
        "found": found,
        "mailin": found.mailin,
        "items": rules.checklist_view(found.mailin),
        "missing": set(found.mailin.missing or []),
        "status_label": rules.STATUS_LABELS[found.mailin.status],
    }
