"""The casebook (案例汇编): start a build, poll its progress, preview one case's section
before building the whole book, download the PDF and the DOCX."""

from flask import Blueprint, jsonify, request

from api.access import open_campaign
from api.errors import ApiError, error_response
from api.files import document, stored_file
from api.security import console_actor, role_required
from campaign.casebook import builds
from campaign.casebook.gather import cases, check_options, preview_entry
from campaign.channels import assets as codes
from drawing.casebook import section_pdf
from models import Casebook
from tasks.casebook import enqueue_build

bp = Blueprint("org_casebook_api", __name__, url_prefix="/api/v1/org/casebook")


@bp.errorhandler(builds.CasebookInvalid)
def _invalid(error: builds.CasebookInvalid):
    return error_response(422, "validation_failed", "提交的内容未通过校验", error.problems)


@bp.post("/builds")
@role_required("organizer")
def start():
    """Start a build: `{"photos_per_case": 2, "photos": {"<entry id>": [attachment ids]}}`."""
    data = request.get_json(silent=True)  # a body is optional: defaults apply
    if data is not None and not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "请求内容必须是 JSON 对象")
    book = builds.request_build(open_campaign(), data or {}, console_actor())
    enqueue_build(book.id)
    return jsonify(builds.payload(book)), 202


@bp.get("/builds")
@role_required("organizer")
def list_builds():
    rows = (
        Casebook.select()
        .where(Casebook.campaign == open_campaign())
        .order_by(Casebook.id.desc())
        .limit(20)
    )
    return jsonify(items=[builds.payload(book) for book in rows])


@bp.get("/builds/<int:casebook_id>")
@role_required("organizer")
def progress(casebook_id: int):
    return jsonify(builds.payload(_build(casebook_id)))


@bp.get("/builds/<int:casebook_id>/casebook.pdf")
@role_required("organizer")
def download_pdf(casebook_id: int):
    return download(_build(casebook_id), "pdf")


@bp.get("/builds/<int:casebook_id>/casebook.docx")
@role_required("organizer")
def download_docx(casebook_id: int):
    return download(_build(casebook_id), "docx")


@bp.get("/preview/<int:entry_id>")
@role_required("organizer")
def preview(entry_id: int):
    """One winning case's section as a PDF, with the photo choice of `?photos=N`."""
    return section_preview(open_campaign(), entry_id, request.args.get("photos", 2, type=int))


def section_preview(campaign, entry_id: int, photos):
    """One winning case's section as a PDF (also served by the console's preview)."""
    entry = preview_entry(campaign, entry_id)
    if entry is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    options, problems = check_options({"photos_per_case": photos})
    if problems:
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", problems)
    case = next(cases(campaign, options, [entry]))
    return document(section_pdf(case), f"案例汇编预览-{entry_id}.pdf", "preview.pdf")


def _build(casebook_id: int) -> Casebook:
    book = Casebook.get_or_none(
        (Casebook.id == casebook_id) & (Casebook.campaign == open_campaign())
    )
    if book is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return book


def download(book: Casebook, kind: str):
    """The finished PDF or DOCX of a build (also served by the console)."""
    key = book.pdf_key if kind == "pdf" else book.docx_key
    if book.status != builds.READY or not key:
        raise ApiError(409, "not_ready", "案例汇编尚未生成完成")
    return stored_file(key, codes.mime_of(key), f"案例汇编.{kind}", f"casebook.{kind}")
