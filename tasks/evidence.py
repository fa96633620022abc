"""Jobs on evidence files: thumbnails for the console and the mini-program's lists.

A thumbnail is derived data: losing its job only means no thumbnail yet, and running the
job twice (RQ is at-least-once) stores one thumbnail, because the key is written with a
conditional update and the loser deletes its own file.
"""

import logging

from redis.exceptions import RedisError
from rq import Retry

from campaign.entries.evidence import BY_MIME, render_thumbnail
from models import Attachment, db
from storage import get_storage
from tasks.queue import get_queue

log = logging.getLogger(__name__)

THUMB_EDGE = 480


def enqueue_thumbnail(attachment_id: int) -> None:
    """Ask for a thumbnail; if Redis is down the upload still stands, without one."""
    try:
        get_queue("default").enqueue(
            make_thumbnail,
            attachment_id,
            job_timeout=120,
            retry=Retry(max=3, interval=[10, 60, 300]),
        )
    except RedisError:
        log.warning("thumbnail for attachment %s not enqueued: Redis unavailable", attachment_id)


@db.connection_context()
def make_thumbnail(attachment_id: int) -> str | None:
    """Store a JPEG of at most THUMB_EDGE px for an image attachment; return its key."""
    attachment = Attachment.get_or_none(Attachment.id == attachment_id)
    if attachment is None or not attachment.storage_key:
        return None  # deleted meanwhile, or a link
    file_type = BY_MIME.get(attachment.mime)
    if file_type is None or file_type.image_format is None:
        return None
    storage = get_storage()
    if attachment.thumb_key and storage.exists(attachment.thumb_key):
        return attachment.thumb_key
    with storage.open(attachment.storage_key) as source:
        thumbnail = render_thumbnail(source, file_type.image_format, THUMB_EDGE)
    stored = storage.save(thumbnail, "jpg")
    previous = Attachment.thumb_key.is_null()
    if attachment.thumb_key:
        previous = Attachment.thumb_key == attachment.thumb_key
    won = (
        Attachment.update(thumb_key=stored.key)
        .where((Attachment.id == attachment_id) & previous)
        .execute()
    )
    if not won:  # another run got there first, or the attachment was deleted
        storage.delete(stored.key)
        fresh = Attachment.get_or_none(Attachment.id == attachment_id)
        return fresh.thumb_key if fresh else None
    return stored.key
