"""Review jobs: solving an assignment run (seconds of database work at 2,000 entries, so it
is a job, with a time limit, never done inside a request) and starting the notices review
events queue (publishing a run, applying decisions)."""

import logging
import re

from rq.exceptions import NoSuchJobError
from rq.job import Job

from campaign.review import runs
from campaign.review.refusals import Refused
from models import Campaign, Notice, db
from tasks.notices import start
from tasks.queue import get_queue, redis_connection

log = logging.getLogger(__name__)
SOLVE_TIMEOUT = 120


def enqueue_solve(campaign_id: int, actor: str, k: int | None = None):
    """Queue a solve; the job's id lets the organizer follow it."""
    return get_queue().enqueue(
        solve_run, campaign_id, actor, k, job_timeout=SOLVE_TIMEOUT, result_ttl=3600
    )


@db.connection_context()
def solve_run(campaign_id: int, actor: str, k: int | None = None) -> dict:
    """Solve the campaign's current state into a draft run; return its id (or the refusal)."""
    campaign = Campaign.get_by_id(campaign_id)
    try:
        run = runs.create_run(campaign, actor, k)
    except Refused as refused:
        log.error("assignment run refused: %s %s", refused.code, refused.fields)
        return {"error": refused.code, "fields": refused.fields}
    return {"run": run.id, "pairs": len(run.pairs), "solve_ms": run.stats["solve_ms"]}


def start_notices(notice_ids: list) -> None:
    """Start notices a review event queued (the sweeper starts them too if this is lost)."""
    for notice_id in notice_ids:
        if notice_id and Notice.get_or_none(Notice.id == notice_id):
            start(notice_id)


JOB_ID = re.compile(r"[0-9a-f-]{1,64}")


def job_state(job_id: str) -> dict | None:
    """A solve job as the organizer follows it: queued, started, finished (with the run id or
    the refusal) or failed; None when unknown or expired."""
    if not JOB_ID.fullmatch(job_id):
        return None
    try:
        job = Job.fetch(job_id, connection=redis_connection())
    except NoSuchJobError:
        return None
    if job.func_name != f"{__name__}.solve_run":
        return None
    return {"job": job.id, "status": job.get_status(), "result": job.return_value()}
