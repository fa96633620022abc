"""Evidence of the caller's entries: upload, list, delete, download (DESIGN §9).

Only the upload endpoint accepts a large body, and only as multipart: it raises the body
cap for itself before anything reads the body, so an oversize upload is refused with a
JSON 413 from its Content-Length, unread. Files are served as downloads, never inline.
"""

from flask import Blueprint, jsonify, request
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from api.access import owned_entry
from api.errors import ApiError
from api.files import stored_file
from api.payload import json_object
from api.ratelimits import rate_limited
from api.security import current_user, login_required
from campaign.clock import iso_local
from campaign.entries import evidence
from campaign.entries import operations as rules
from campaign.problems import Invalid
from config import current_settings
from models import Attachment, Entry
from storage import get_storage
from tasks.evidence import enqueue_thumbnail

bp = Blueprint("attachments_api", __name__, url_prefix="/api/v1")

MAX_TITLE = 200


@bp.post("/entries/<int:entry_id>/attachments")
@login_required
@rate_limited("upload", per="user")
def upload(entry_id: int):
    """A file (multipart `file` + `kind` [+ `title`]) or a link (`kind` + `link` [+ `title`])."""
    settings = current_settings()
    if request.mimetype == "multipart/form-data":
        request.max_content_length = settings.upload_max_mb * evidence.MB
    entry = owned_entry(entry_id)
    _ensure_editable(entry)
    kind, upload, link, title = _read_body(settings.upload_max_mb)
    actor = f"user:{current_user().id}"
    try:
        if upload is not None:
            name = title or upload.filename or ""
            added = evidence.add_file(entry, kind, upload.stream, name, get_storage(), actor)
        else:
            added = evidence.add_link(entry, kind, link, title, actor)
    except evidence.EvidenceRefused as refused:
        raise _refused(refused) from None
    attachment, created = added
    if created:
        rules.reopen_endorsed(entry, actor)  # new evidence: the department looks again
    if created and attachment.mime.startswith("image/"):
        enqueue_thumbnail(attachment.id)
    body = attachment_payload(attachment, entry.campaign.timezone)
    return jsonify(body), 201 if created else 200


@bp.get("/entries/<int:entry_id>/attachments")
@login_required
def list_attachments(entry_id: int):
    entry = owned_entry(entry_id)
    rows = Attachment.select().where(Attachment.entry == entry).order_by(Attachment.id)
    timezone = entry.campaign.timezone
    return jsonify(items=[attachment_payload(row, timezone) for row in rows])


@bp.delete("/entries/<int:entry_id>/attachments/<int:attachment_id>")
@login_required
def delete_attachment(entry_id: int, attachment_id: int):
    entry = owned_entry(entry_id)
    attachment = _attachment_of(entry, attachment_id)
    _ensure_editable(entry)
    try:
        rules.remove_evidence(entry, attachment, get_storage(), f"user:{current_user().id}")
    except Invalid as invalid:
        raise ApiError(
            422, "validation_failed", "删除后将不符合提交要求，未删除", invalid.problems
        ) from None
    return "", 204


@bp.get("/entries/<int:entry_id>/attachments/<int:attachment_id>/file")
@login_required
def download(entry_id: int, attachment_id: int):
    """The file, as a download: nginx sends it in production, Flask in development."""
    attachment = _attachment_of(owned_entry(entry_id), attachment_id)
    if not attachment.storage_key:
        raise ApiError(404, "no_file", "该材料是链接，没有可下载的文件")
    return attachment_file(attachment)


def attachment_file(attachment: Attachment, disposition: str | None = "attachment"):
    """The attachment's bytes: a download, opened `inline` (those who judge it), or as they
    are (None: WeChat's image check)."""
    name = evidence.download_name(attachment)
    fallback = evidence.fallback_name(attachment)
    return stored_file(attachment.storage_key, attachment.mime, name, fallback, disposition)


def attachment_payload(attachment: Attachment, timezone: str) -> dict:
    url = None
    if attachment.storage_key:
        url = f"/api/v1/entries/{attachment.entry_id}/attachments/{attachment.id}/file"
    return {
        "id": attachment.id,
        "kind": attachment.kind,
        "original_name": attachment.original_name,
        "mime": attachment.mime or None,
        "size": attachment.size,
        "sha256": attachment.sha256 or None,
        "width": attachment.width,
        "height": attachment.height,
        "link": attachment.link,
        "url": url,
        "check_status": attachment.check_status,
        "created_at": iso_local(attachment.created_at, timezone),
    }


def _read_body(max_mb: int) -> tuple:
    """`(kind, file or None, link, title)`; 413 for an oversize body, 422 for a bad shape."""
    try:
        if request.is_json:
            data, upload = json_object(), None
        else:
            data, upload = request.form, request.files.get("file")
    except RequestEntityTooLarge:
        message = f"文件过大，不能超过 {max_mb}MB"
        problem = {"field": "file", "code": "too_large", "message": message, "max_mb": max_mb}
        raise ApiError(413, "payload_too_large", message, [problem]) from None
    if isinstance(upload, FileStorage) and not upload.filename and not _has_bytes(upload):
        upload = None  # an empty file input, as browsers send when nothing was chosen
    kind, link, title = data.get("kind"), data.get("link"), data.get("title")
    if title is not None and (not isinstance(title, str) or len(title) > MAX_TITLE):
        problem = {"field": "title", "code": "too_long", "message": "内容过长", "max": MAX_TITLE}
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", [problem])
    if upload is not None and link:
        raise _refused(evidence.EvidenceRefused("file_and_link"))
    if upload is None and not link:
        raise _refused(_missing(kind))
    return kind, upload, link, (title or "").strip()


def _missing(kind) -> evidence.EvidenceRefused:
    try:
        evidence.check_kind(kind)
    except evidence.EvidenceRefused as refused:
        return refused
    return evidence.EvidenceRefused("missing_file", kind=kind)


def _refused(refused: evidence.EvidenceRefused) -> ApiError:
    """422 with the refusal's own code and message at the top and in `fields`."""
    return ApiError(422, refused.code, refused.message, [refused.as_problem()])


def _has_bytes(upload: FileStorage) -> bool:
    stream = upload.stream
    position = stream.tell()
    has = bool(stream.read(1))
    stream.seek(position)
    return has


def _attachment_of(entry: Entry, attachment_id: int) -> Attachment:
    attachment = Attachment.get_or_none(
        (Attachment.id == attachment_id) & (Attachment.entry == entry)
    )
    if attachment is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return attachment


def _ensure_editable(entry: Entry) -> None:
    late_code = request.headers.get("X-Late-Code")
    late_code = late_code if late_code and len(late_code) <= 32 else None
    rules.ensure_editable(entry, late_code=late_code)
