"""Work left in a state, found again from the database alone (RELIABILITY-NOTES §0, §4).

Submitting writes the entry (`submitted`, content check `pending`) and then enqueues its
checks. If Redis dies between the two, or loses the queued jobs, nothing would ever check
the entry and its department would never see it. This sweeper, run by the periodic
schedule, finds such entries and enqueues their checks again. It is idempotent: a check
whose job is still alive in Redis (queued, running, waiting for a retry) is left alone, and
the jobs themselves are idempotent, so a rare double enqueue only checks twice.
"""

import datetime
import logging

from redis.exceptions import RedisError
from rq.job import Job, JobStatus

from campaign.entries import status
from models import Attachment, Entry, db, utcnow
from tasks.checks import content_check_job, duplicate_search_job, enqueue_checks, media_check_job
from tasks.queue import redis_connection

log = logging.getLogger(__name__)

# A submit enqueues within milliseconds; only older work is presumed lost.
GRACE = datetime.timedelta(minutes=2)
CHECKED_STATUSES = (status.SUBMITTED, status.ENDORSED)
ALIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def enqueue_submit_checks(entry_id: int) -> bool:
    """Enqueue everything a submit owes; with Redis down, log and leave it to the sweeper."""
    try:
        enqueue_checks(
            content_check_job(entry_id), media_check_job(entry_id), duplicate_search_job(entry_id)
        )
    except RedisError as error:
        log.warning("checks of entry %s not enqueued (%s); the sweeper will", entry_id, error)
        return False
    return True


def requeue_text_check(entry_id: int) -> bool:
    """Check an edit made after submit; the entry is `pending` first, so the sweeper finds
    it if Redis is down now."""
    try:
        enqueue_checks(content_check_job(entry_id))
    except RedisError as error:
        log.warning("text check of entry %s not enqueued (%s); the sweeper will", entry_id, error)
        return False
    return True


def _alive(job_id: str) -> bool:
    job = Job.fetch_many([job_id], connection=redis_connection())[0]
    return job is not None and job.get_status(refresh=False) in ALIVE


@db.connection_context()
def requeue_lost_checks(now: datetime.datetime | None = None) -> dict:
    """Enqueue the checks of submitted entries whose jobs never reached (or left) Redis."""
    cutoff = (now or utcnow()) - GRACE
    submitted = Entry.status.in_(CHECKED_STATUSES)
    report = {"text": 0, "media": 0, "duplicates": 0}
    unchecked = Entry.select(Entry.id, Entry.version).where(
        submitted & (Entry.content_check == "pending") & (Entry.updated_at < cutoff)
    )
    for entry in unchecked:
        if not _alive(f"check-text-{entry.id}-v{entry.version}"):
            enqueue_checks(content_check_job(entry.id))
            report["text"] += 1
    unasked = (
        Entry.select(Entry.id)
        .join(Attachment)
        .where(submitted & (Attachment.check_status == "pending") & (Entry.submitted_at < cutoff))
        .distinct()
    )
    for entry in unasked:
        if not _alive(f"check-media-{entry.id}"):
            enqueue_checks(media_check_job(entry.id))
            report["media"] += 1
    unprinted = Entry.select(Entry.id).where(
        submitted & Entry.fingerprint.is_null() & (Entry.submitted_at < cutoff)
    )
    for entry in unprinted:
        if not _alive(f"duplicates-{entry.id}"):
            enqueue_checks(duplicate_search_job(entry.id))
            report["duplicates"] += 1
    if any(report.values()):
        log.warning("re-enqueued lost checks: %s", report)
    return report
