"""Organizer pages of assignment: pre-flight (is there enough expert capacity per domain),
starting a solve (a job: its progress is polled and survives a reload, since the campaign's
latest solve job is remembered in Redis), the runs, one run's loads and diff (against the
live assignment or another run), and publishing or discarding it. The rules are
`campaign.review.runs` and `tasks.review`, as for `api/org/review.py`."""

from flask import Blueprint, request

from campaign.review import decisions, runs
from campaign.review.refusals import Invalid
from models import Account, AssignmentRun, Entry
from pages.console.layout import actor, campaign_or_404, paginate, render
from pages.console.review import (
    JOB_LABELS,
    RUN_LABELS,
    hx_redirect,
    not_found,
    paginate_list,
    review_page,
)
from tasks import review as jobs
from tasks.queue import redis_connection

bp = Blueprint("review_runs", __name__, url_prefix="/review")
LATEST_JOB_TTL = 3600
REFUSALS = {"assignment_invalid": "分配结果未通过校验，未保存"}


def _latest_key(campaign_id: int) -> str:
    return f"console:review:solve:{campaign_id}"


def _k(raw) -> int | None:
    """The panel size from the form: empty means the campaign's setting."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 10:
        raise Invalid(
            [{"field": "k", "code": "out_of_range", "message": "每件作品专家数须为 1–10"}]
        )
    return int(raw)


@bp.get("/runs")
@review_page
def index():
    campaign = campaign_or_404()
    job_id = redis_connection().get(_latest_key(campaign.id))
    job = _job(job_id.decode()) if job_id else None
    return render("console/review_runs.html", "runs", **_context(job=job))


def _context(**extra) -> dict:
    query = (
        AssignmentRun.select()
        .where(AssignmentRun.campaign == campaign_or_404())
        .order_by(AssignmentRun.id.desc())
    )
    return {"pager": paginate(query), "run_labels": RUN_LABELS, **extra}


@bp.post("/open")
@review_page
def open_review():
    """进入评审: the entries ready for review move to under_review (the API's
    `POST /api/v1/org/review/open`); pressing it again later takes the late endorsements."""
    moved = decisions.open_review(campaign_or_404(), actor())
    return render("console/review_runs.html", "opened", moved=moved, **_context())


@bp.get("/preflight")
@review_page
def preflight():
    report = runs.preflight(campaign_or_404(), _k(request.args.get("k")))
    return render("console/review_runs.html", "preflight", report=report, **_context())


@bp.post("/runs")
@review_page
def start():
    campaign = campaign_or_404()
    job = jobs.enqueue_solve(campaign.id, actor(), _k(request.form.get("k")))
    redis_connection().set(_latest_key(campaign.id), job.id, ex=LATEST_JOB_TTL)
    return render("console/review_runs.html", "job", job=_job(job.id))


@bp.get("/jobs/<job_id>")
@review_page
def job(job_id: str):
    state = _job(job_id)
    if state is None:
        raise not_found()
    return render("console/review_runs.html", "job", job=state, **_context())


def _job(job_id: str) -> dict | None:
    """The job as the page shows it: label, whether to keep polling, and its outcome."""
    state = jobs.job_state(job_id)
    if state is None:
        return None
    result = state["result"] or {}
    status = str(getattr(state["status"], "value", state["status"]))
    return {
        "id": state["job"],
        "status": status,
        "label": JOB_LABELS.get(status, status),
        "live": status in ("queued", "scheduled", "deferred", "started"),
        "run": result.get("run"),
        "pairs": result.get("pairs"),
        "error": REFUSALS.get(result.get("error"), result.get("error")),
    }


@bp.get("/runs/<int:run_id>")
@review_page
def show(run_id: int):
    """One run: loads, or the pairs added and removed against the live assignment (or
    against another run, `?against=`), one paginated table at a time."""
    run = _run(run_id)
    view = runs.run_view(run, detail=True)
    against = request.args.get("against", type=int)
    other = _run(against) if against else None
    changes = runs.compare(run, other) if other else runs.diff(run)
    tab = request.args.get("view", "added")
    if tab not in ("added", "removed", "loads"):
        tab = "added"
    if tab == "loads":
        rows = sorted(view["loads"], key=lambda r: (-r["load"], r["expert"]))
    else:
        rows = [list(p) for p in changes[tab]]
    pager = paginate_list(rows)
    return render(
        "console/review_run.html",
        run=run,
        view=view,
        changes=changes,
        other=other,
        tab=tab,
        pager=pager,
        names=_names(pager["rows"]) if tab != "loads" else ({}, {}),
        others=AssignmentRun.select(AssignmentRun.id, AssignmentRun.status)
        .where((AssignmentRun.campaign == run.campaign) & (AssignmentRun.id != run.id))
        .order_by(AssignmentRun.id.desc())
        .limit(50),
        run_labels=RUN_LABELS,
    )


def _names(pairs: list) -> tuple[dict, dict]:
    """Expert names and entry titles of the pairs on this page only."""
    experts = {p[0] for p in pairs} or {0}
    entries = {p[1] for p in pairs} or {0}
    return (
        dict(
            Account.select(Account.id, Account.display_name).where(Account.id.in_(experts)).tuples()
        ),
        dict(Entry.select(Entry.id, Entry.title).where(Entry.id.in_(entries)).tuples()),
    )


@bp.post("/runs/<int:run_id>/publish")
@review_page
def publish(run_id: int):
    notice = runs.publish(_run(run_id), actor())
    jobs.start_notices([notice])
    return hx_redirect("console.review_runs.show", run_id=run_id)


@bp.post("/runs/<int:run_id>/discard")
@review_page
def discard(run_id: int):
    runs.discard(_run(run_id), actor())
    return hx_redirect("console.review_runs.show", run_id=run_id)


def _run(run_id: int) -> AssignmentRun:
    run = AssignmentRun.get_or_none(
        (AssignmentRun.id == run_id) & (AssignmentRun.campaign == campaign_or_404())
    )
    if run is None:
        raise not_found()
    return run
