"""The funnel roll-up job: touches counted into `FunnelVisitor`, every 30 seconds and on demand.

Run by the periodic schedule, and enqueued (once at a time) when someone reads a funnel
while touches are waiting, so the next read is current.
"""

from rq.job import Job, JobStatus

from campaign.channels.funnel_rollup import roll_up_everything
from models import db
from tasks.queue import get_queue, redis_connection

JOB_ID = "funnel-roll-up"
WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


@db.connection_context()
def roll_up_touches() -> int:
    """File every unrolled touch; return how many."""
    return roll_up_everything()


def request_roll_up() -> None:
    """Enqueue a roll-up unless one is already waiting to run."""
    existing = Job.fetch_many([JOB_ID], connection=redis_connection())[0]
    if existing is not None and existing.get_status(refresh=False) in WAITING:
        return
    get_queue("default").enqueue(roll_up_touches, job_id=JOB_ID, job_timeout=1800)
