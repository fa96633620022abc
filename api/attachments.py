"""Evidence of the caller's entries: upload, list, delete, download (DESIGN §9).

Only the upload endpoint accepts a large body, and only as multipart: it raises the body
cap for itself before anything reads the body, so an oversize upload is refused with a
JSON 413 from its Content-Length, unread. Files are served as downloads, never inline.
"""

from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, request, send_file
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from api.access import owned_entry
from api.errors import ApiError
from api.payload import json_object
from api.ratelimits import rate_limited
from api.security import current_user, login_required
from campaign import entries as rules
from campaign import evidence
from campaign.clock import iso_local
from models import Attachment, Entry
from storage import StorageError, get_storage
from tasks.evidence import enqueue_thumbnail

bp = Blueprint("attachments_api", __name__, url_prefix="/api/v1")

MAX_TITLE = 200
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Cache-Control": "private, no-store",
}


@bp.post("/entries/<int:entry_id>/attachments")
@login_required
@rate_limited("upload", per="user")
def upload(entry_id: int):
    """A file (multipart `file` + `kind` [+ `title`]) or a link (`kind` + `link` [+ `title`])."""
    settings = current_app.config["SETTINGS"]
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
    evidence.remove(attachment, get_storage(), f"user:{current_user().id}")
    return "", 204


@bp.get("/entries/<int:entry_id>/attachments/<int:attachment_id>/file")
@login_required
def download(entry_id: int, attachment_id: int):
    """The file, as a download: nginx sends it in production, Flask in development."""
    attachment = _attachment_of(owned_entry(entry_id), attachment_id)
    if not attachment.storage_key:
        raise ApiError(404, "no_file", "该材料是链接，没有可下载的文件")
    return stored_file(attachment, as_download=True)


def stored_file(attachment: Attachment, as_download: bool):
    """A response with the attachment's bytes (nginx's X-Accel-Redirect in production)."""
    name = evidence.download_name(attachment)
    disposition = evidence.content_disposition(name, evidence.fallback_name(attachment))
    headers = {**DOWNLOAD_HEADERS}
    if as_download:
        headers["Content-Disposition"] = disposition
    if current_app.config["SETTINGS"].production:
        response = Response(mimetype=attachment.mime, headers=headers)
        response.headers["X-Accel-Redirect"] = "/_protected/" + quote(attachment.storage_key)
        return response
    try:
        stream = get_storage().open(attachment.storage_key)
    except StorageError:
        raise ApiError(404, "file_missing", "文件不存在或已被删除") from None
    response = send_file(
        stream, mimetype=attachment.mime, as_attachment=as_download, download_name=name
    )
    response.headers.update(headers)
    return response


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
    try:
        rules.ensure_editable(entry, late_code=late_code)
    except rules.EntryLocked as locked:
        raise ApiError(409, locked.code, locked.message) from None
