"""The job queues, for admins (DESIGN §7): each queue's counts, the failed jobs with their
tracebacks, and retry. An rq-dashboard equivalent inside the console's own sign-in, CSP
and CSRF, with no assets of its own."""

from flask import Blueprint, request
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job

from api.errors import ApiError
from campaign.audit import record
from pages.console.layout import account, actor, page_for, render
from tasks.queue import QUEUE_NAMES, get_queue, redis_connection

bp = Blueprint("jobs", __name__)
PAGE_SIZE = 20


@bp.get("/jobs")
@page_for("admin")
def index():
    return _page()


@bp.post("/jobs/<queue>/<job_id>/retry")
@page_for("admin")
def retry(queue: str, job_id: str):
    if queue not in QUEUE_NAMES:
        raise ApiError(404, "not_found", "请求的内容不存在")
    registry = get_queue(queue).failed_job_registry
    try:
        registry.requeue(job_id)
    except (NoSuchJobError, InvalidJobOperation):
        raise ApiError(404, "not_found", "该任务已不在失败列表中") from None
    record(actor(), "job.retry", account(), None, {"queue": queue, "job": job_id})
    return _page("table")


def _page(block: str | None = None):
    queues = []
    for name in QUEUE_NAMES:
        queue = get_queue(name)
        queues.append(
            {
                "name": name,
                "queued": queue.count,
                "started": queue.started_job_registry.count,
                "scheduled": queue.scheduled_job_registry.count,
                "failed": queue.failed_job_registry.count,
                "finished": queue.finished_job_registry.count,
            }
        )
    failed = []
    for name in QUEUE_NAMES:
        registry = get_queue(name).failed_job_registry
        ids = registry.get_job_ids(0, 199)
        for job in Job.fetch_many(ids, connection=redis_connection()):
            if job is not None:
                failed.append({"queue": name, "job": job})
    total = len(failed)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    pager = {
        "rows": failed[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        "total": total,
        "page": page,
        "pages": pages,
    }
    return render("console/jobs.html", block, queues=queues, pager=pager)
