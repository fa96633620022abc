"""`/api/v1/evidence/<token>`: one attachment, opened inline through a signed, expiring link
(campaign/entries/evidence_access.py) by a department, an organizer or (later) an expert.

Served inline, but safely: the type is the one sniffed at upload, `nosniff` forbids the
browser to guess another, and `Content-Security-Policy: sandbox` runs a PDF (or anything
else) with no script, no form, no same-origin access.
"""

from flask import Blueprint

from api.errors import ApiError
from api.unit.attachments import attachment_file, attachment_payload
from campaign.entries import evidence_access
from config import current_settings
from models import Attachment

bp = Blueprint("evidence_view_api", __name__, url_prefix="/api/v1")


@bp.get("/evidence/<token>")
def view(token: str):
    attachment = evidence_access.linked_attachment(_secret(), token)
    if attachment is None:
        raise ApiError(404, "link_invalid", "链接无效或已过期，请返回列表重新打开")
    return attachment_file(attachment, disposition="inline")


def linked_payload(attachment: Attachment, timezone: str) -> dict:
    """The attachment as its owner sees it, its `url` a signed link valid for a while."""
    payload = attachment_payload(attachment, timezone)
    if attachment.storage_key:
        payload["url"] = f"/api/v1/evidence/{evidence_access.link_token(_secret(), attachment)}"
        payload["expires_in"] = evidence_access.LINK_LIFETIME
    return payload


def _secret() -> str:
    return current_settings().secret_key
