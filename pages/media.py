"""`/media/<token>`: one evidence image for WeChat's content check to download.

Only images, only with a valid, unexpired signed token (campaign/entries/media_links.py); the
response is the same guarded file response as the owner's download.
"""

from flask import Blueprint

from api.errors import ApiError
from api.unit.attachments import attachment_file
from campaign.entries.evidence import BY_MIME
from campaign.entries.media_links import storage_key_for
from config import current_settings
from models import Attachment

bp = Blueprint("media", __name__)


@bp.get("/media/<token>")
def media(token: str):
    key = storage_key_for(current_settings().secret_key, token)
    attachment = Attachment.get_or_none(Attachment.storage_key == key) if key else None
    file_type = BY_MIME.get(attachment.mime) if attachment else None
    if (
        attachment is None
        or not attachment.storage_key
        or not file_type
        or not file_type.image_format
    ):
        raise ApiError(404, "not_found", "请求的内容不存在")
    return attachment_file(attachment, disposition=None)
