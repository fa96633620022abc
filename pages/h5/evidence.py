"""`/h5/entries/<id>/evidence`: photos and videos from the phone's camera or album, links.

The same path as `POST /api/v1/entries/<id>/attachments`: its body reader (the size cap
raised for this request only, 413 unread when too large) and `campaign.entries.evidence`
(kinds, per-kind count and size limits, sniffing, cleaning). A refusal shows on the entry
page next to the upload form, or as the API's JSON error for the page script.
"""

from flask import Blueprint, jsonify, redirect, request

from api.access import owned_entry
from api.errors import ApiError
from api.unit.attachments import _read_body, attachment_file, attachment_payload
from campaign.entries import evidence
from campaign.entries import operations as rules
from config import current_settings
from models import Attachment
from pages.h5.common import by_field, signed_in
from pages.h5.entries import _entry_page, back_to, late_code
from storage import get_storage
from tasks.evidence import enqueue_thumbnail

bp = Blueprint("evidence", __name__)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.post("/entries/<int:entry_id>/evidence")
def upload(entry_id: int):
    settings = current_settings()  # the body cap was raised in pages/h5 before CSRF
    user = signed_in()
    entry = owned_entry(entry_id)
    rules.ensure_editable(entry, late_code=late_code())
    try:
        kind, upload_file, link, title = _read_body(settings.upload_max_mb)
        try:
            if upload_file is not None:
                name = title or upload_file.filename or ""
                added = evidence.add_file(
                    entry, kind, upload_file.stream, name, get_storage(), f"user:{user.id}"
                )
            else:
                added = evidence.add_link(entry, kind, link, title, f"user:{user.id}")
        except evidence.EvidenceRefused as refused:
            raise ApiError(422, refused.code, refused.message, [refused.as_problem()]) from None
    except ApiError as error:
        if _wants_json():
            raise
        problems = by_field([{**p, "field": "evidence"} for p in error.fields])
        return _entry_page(entry, problems or {"evidence": [error.message]}, None), error.status
    attachment, created = added
    if created and attachment.mime.startswith("image/"):
        enqueue_thumbnail(attachment.id)
    if _wants_json():
        return jsonify(attachment_payload(attachment, entry.campaign.timezone)), 201
    return redirect(back_to(entry, "uploaded", "#evidence"), 303)


@bp.post("/entries/<int:entry_id>/evidence/<int:attachment_id>/delete")
def delete(entry_id: int, attachment_id: int):
    user = signed_in()
    entry = owned_entry(entry_id)
    attachment = _attachment(entry, attachment_id)
    rules.ensure_editable(entry, late_code=late_code())
    evidence.remove(attachment, get_storage(), f"user:{user.id}")
    return redirect(back_to(entry, "removed", "#evidence"), 303)


@bp.get("/entries/<int:entry_id>/evidence/<int:attachment_id>")
def show(entry_id: int, attachment_id: int):
    signed_in()
    attachment = _attachment(owned_entry(entry_id), attachment_id)
    if not attachment.storage_key:  # a link: the page links it directly, never via us
        raise ApiError(404, "no_file", "该材料是链接，没有可下载的文件")
    return attachment_file(attachment, as_download=not attachment.mime.startswith("image/"))


def _attachment(entry, attachment_id: int) -> Attachment:
    found = Attachment.get_or_none((Attachment.id == attachment_id) & (Attachment.entry == entry))
    if found is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return found
