"""Organizer endpoints of expert review: opening review, the rubric, conflicts, pre-flight,
assignment runs (draft → inspect → publish) and hand-made pairs. The review rules' `Invalid`
and `Refused` become 422 and 409 here, for every review blueprint."""

from flask import Blueprint, jsonify, request

from api.access import open_campaign
from api.errors import ApiError, error_response
from api.payload import json_object
from api.security import console_actor, role_required
from campaign.problems import is_row_id
from campaign.review import conflicts, decisions, rubric, runs, scores
from campaign.review.experts import profile_of
from campaign.review.refusals import Invalid, Refused
from models import Account, Assignment, AssignmentRun, Entry
from tasks import review as jobs

bp = Blueprint("org_review_api", __name__, url_prefix="/api/v1/org/review")


@bp.app_errorhandler(Invalid)
def _invalid(error: Invalid):
    return error_response(422, "validation_failed", "提交的内容未通过校验", error.problems)


@bp.app_errorhandler(Refused)
def _refused(error: Refused):
    return error_response(409, error.code, error.message, error.fields)


def not_found():
    return ApiError(404, "not_found", "请求的内容不存在")


@bp.post("/open")
@role_required("organizer")
def open_review():
    return jsonify(moved=decisions.open_review(open_campaign(), console_actor()))


@bp.get("/rubric")
@role_required("organizer")
def get_rubric():
    return jsonify(rubric.rubric(open_campaign()))


@bp.put("/rubric")
@role_required("organizer")
def put_rubric():
    return jsonify(rubric.configure(open_campaign(), json_object(), console_actor()))


@bp.get("/conflicts")
@role_required("organizer")
def list_conflicts():
    return jsonify(items=conflicts.declarations(open_campaign()))


@bp.post("/conflicts")
@role_required("organizer")
def declare_conflict():
    data = json_object()
    account = (
        Account.get_or_none(Account.id == data.get("expert"))
        if is_row_id(data.get("expert"))
        else None
    )
    profile = profile_of(account) if account else None
    if profile is None or profile.campaign_id != open_campaign().id:
        raise Invalid([{"field": "expert", "code": "not_found", "message": "对象不存在"}])
    row = conflicts.declare(profile, data, console_actor())
    return jsonify(id=row.id), 201


@bp.delete("/conflicts/<int:conflict_id>")
@role_required("organizer")
def withdraw_conflict(conflict_id: int):
    row = conflicts.declaration_of(open_campaign(), conflict_id)
    if row is None:
        raise not_found()
    conflicts.withdraw(row, console_actor())
    return "", 204


def _k() -> int | None:
    k = request.args.get("k", type=int)
    if k is not None and not 1 <= k <= 10:
        raise Invalid([{"field": "k", "code": "out_of_range", "message": "分值超出范围"}])
    return k


@bp.get("/preflight")
@role_required("organizer")
def preflight():
    return jsonify(runs.preflight(open_campaign(), _k()))


@bp.get("/runs")
@role_required("organizer")
def list_runs():
    rows = AssignmentRun.select().where(AssignmentRun.campaign == open_campaign())
    return jsonify(items=[runs.run_view(r) for r in rows.order_by(AssignmentRun.id.desc())])


@bp.post("/runs")
@role_required("organizer")
def create_run():
    data = request.get_json(silent=True) or {}
    k = data.get("k") if isinstance(data, dict) else None
    if k is not None and (not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= 10):
        raise Invalid([{"field": "k", "code": "out_of_range", "message": "分值超出范围"}])
    job = jobs.enqueue_solve(open_campaign().id, console_actor(), k)
    return jsonify(job=job.id, status="queued"), 202


@bp.get("/jobs/<job_id>")
@role_required("organizer")
def solve_job(job_id: str):
    state = jobs.job_state(job_id)
    if state is None:
        raise not_found()
    return jsonify(state)


def _run(run_id: int) -> AssignmentRun:
    run = AssignmentRun.get_or_none(
        (AssignmentRun.id == run_id) & (AssignmentRun.campaign == open_campaign())
    )
    if run is None:
        raise not_found()
    return run


@bp.get("/runs/<int:run_id>")
@role_required("organizer")
def get_run(run_id: int):
    return jsonify(runs.run_view(_run(run_id), detail=True))


@bp.post("/runs/<int:run_id>/publish")
@role_required("organizer")
def publish_run(run_id: int):
    notice = runs.publish(_run(run_id), console_actor())
    jobs.start_notices([notice])
    return jsonify(runs.run_view(_run(run_id)) | {"notice": notice})


@bp.post("/runs/<int:run_id>/discard")
@role_required("organizer")
def discard_run(run_id: int):
    runs.discard(_run(run_id), console_actor())
    return jsonify(runs.run_view(_run(run_id)))


def _assignment(assignment_id: int) -> Assignment:
    found = (
        Assignment.select()
        .join(Entry)
        .where((Assignment.id == assignment_id) & (Entry.campaign == open_campaign()))
        .first()
    )
    if found is None:
        raise not_found()
    return found


def assignment_view(a: Assignment) -> dict:
    return {
        "id": a.id,
        "expert": a.expert_id,
        "entry": a.entry_id,
        "pinned": a.pinned,
        "submitted": a.submitted_at is not None,
    }


@bp.post("/assignments")
@role_required("organizer")
def add_assignment():
    data = json_object()
    assignment, notice = runs.add_pair(
        open_campaign(), data.get("expert"), data.get("entry"), console_actor()
    )
    jobs.start_notices([notice])
    return jsonify(assignment_view(assignment)), 201


@bp.delete("/assignments/<int:assignment_id>")
@role_required("organizer")
def remove_assignment(assignment_id: int):
    runs.remove_pair(_assignment(assignment_id), console_actor())
    return "", 204


@bp.post("/assignments/<int:assignment_id>/swap")
@role_required("organizer")
def swap_assignment(assignment_id: int):
    data = json_object()
    assignment, notice = runs.swap_pair(
        _assignment(assignment_id), data.get("expert"), console_actor()
    )
    jobs.start_notices([notice])
    return jsonify(assignment_view(assignment))


@bp.post("/assignments/<int:assignment_id>/reopen")
@role_required("organizer")
def reopen_assignment(assignment_id: int):
    assignment = scores.reopen(_assignment(assignment_id), console_actor(), by_organizer=True)
    return jsonify(assignment_view(assignment))
