"""Organizer page over the casebook (案例汇编): the winners in book order with a preview of
one case's section, a build of the whole book with its progress (polled from the build's row,
so it survives a reload), and the PDF and DOCX downloads.

The rules are `campaign.casebook` and the job `tasks.casebook`, as for the API."""

from flask import Blueprint, request

from api.errors import ApiError
from api.org.casebook import download, section_preview
from campaign.casebook import builds
from campaign.casebook.gather import DEFAULT_PHOTOS, MAX_PHOTOS, winning_entries
from campaign.mailin.rules import AWARDS, award_of
from models import Casebook
from pages.console.layout import actor, campaign_or_404, page_for, paginate_rows, render
from tasks.casebook import enqueue_build

bp = Blueprint("casebook", __name__)

STATUS_LABELS = {
    builds.PENDING: "排队中",
    builds.RUNNING: "生成中",
    builds.READY: "已完成",
    builds.FAILED: "生成失败",
}
LIVE = (builds.PENDING, builds.RUNNING)


@bp.get("/casebook")
@page_for("organizer")
def index():
    campaign = campaign_or_404()
    latest = (
        Casebook.select().where(Casebook.campaign == campaign).order_by(Casebook.id.desc()).first()
    )
    return _page(latest, "cases")


def _page(book: Casebook | None, block: str):
    """The whole page around `book`, or only `block` for htmx (a poll reads one row, not the
    winners)."""
    if request.headers.get("HX-Request") and block == "build":
        return render("console/casebook.html", "build", book=book, **_labels())
    winners = winning_entries(campaign_or_404())
    cases = [(entry, AWARDS.get(award_of(entry), "")) for entry in winners]
    return render(
        "console/casebook.html", block, pager=paginate_rows(cases), book=book, **_labels()
    )


@bp.post("/casebook/builds")
@page_for("organizer")
def start():
    try:
        photos = int(request.form.get("photos_per_case", DEFAULT_PHOTOS))
    except ValueError:
        photos = -1  # the rule answers "0 到 6 之间的整数"
    try:
        book = builds.request_build(campaign_or_404(), {"photos_per_case": photos}, actor())
    except builds.CasebookInvalid as invalid:
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", invalid.problems) from None
    enqueue_build(book.id)
    return _page(book, "build")


@bp.get("/casebook/builds/<int:casebook_id>")
@page_for("organizer")
def progress(casebook_id: int):
    return _page(_build(casebook_id), "build")


@bp.get("/casebook/builds/<int:casebook_id>/casebook.<any(pdf, docx):kind>")
@page_for("organizer")
def file(casebook_id: int, kind: str):
    return download(_build(casebook_id), kind)


@bp.get("/casebook/preview/<int:entry_id>")
@page_for("organizer")
def preview(entry_id: int):
    return section_preview(campaign_or_404(), entry_id, request.args.get("photos", 2, type=int))


def _labels() -> dict:
    return {"statuses": STATUS_LABELS, "live": LIVE, "max_photos": MAX_PHOTOS,
            "default_photos": DEFAULT_PHOTOS}  # fmt: skip


def _build(casebook_id: int) -> Casebook:
    book = Casebook.get_or_none(
        (Casebook.id == casebook_id) & (Casebook.campaign == campaign_or_404())
    )
    if book is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return book
