"""An expert's endpoints: their profile and WeChat binding, the rubric, the entries assigned
to them (published runs and pins only; no route, department or endorsement), their reviews
(draft, submit, reopen) and recusal. Anything not assigned to the caller is a 404, exactly
like a missing entry."""

from flask import Blueprint, jsonify

from api.access import open_campaign
from api.errors import ApiError
from api.payload import json_object
from api.security import console_actor, current_account, current_user, login_required, role_required
from api.unit.attachments import attachment_file as attachment_response
from campaign.review import conflicts, experts, rubric, scores
from models import Assignment, Attachment, ExpertProfile
from tasks import review as jobs

bp = Blueprint("expert_api", __name__, url_prefix="/api/v1/expert")


def _profile() -> ExpertProfile:
    profile = experts.profile_of(current_account())
    if profile is None or profile.campaign_id != open_campaign().id:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return profile


def _assignment(entry_id: int) -> Assignment:
    found = scores.assignment_of(_profile().account_id, open_campaign(), entry_id)
    if found is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return found


@bp.get("/me")
@role_required("expert")
def me():
    return jsonify(experts.profile_view(_profile()))


@bp.post("/me/bind-code")
@role_required("expert")
def bind_code():
    return jsonify(code=experts.issue_bind_code(_profile()))


@bp.post("/bind")
@login_required
def bind():
    """Called from the mini-program by the expert's WeChat identity, with the code."""
    code = json_object().get("code")
    account = experts.bind_wechat(code if isinstance(code, str) else "", current_user())
    return jsonify(bound=True, expert=account.display_name)


@bp.get("/rubric")
@role_required("expert")
def get_rubric():
    _profile()
    return jsonify(rubric.rubric(open_campaign()))


@bp.get("/entries")
@role_required("expert")
def list_entries():
    rows = scores.assignments_of(_profile().account_id, open_campaign())
    return jsonify(
        items=[
            {
                "entry": a.entry_id,
                "title": a.entry.title,
                "track": a.entry.track,
                "domain": a.entry.domain,
                "submitted": a.submitted_at is not None,
            }
            for a in rows
        ]
    )


@bp.get("/entries/<int:entry_id>")
@role_required("expert")
def get_entry(entry_id: int):
    assignment = _assignment(entry_id)
    return jsonify(
        entry=scores.entry_for_expert(assignment.entry), review=scores.review_view(assignment)
    )


@bp.get("/entries/<int:entry_id>/attachments/<int:attachment_id>/file")
@role_required("expert")
def attachment_file(entry_id: int, attachment_id: int):
    """An assigned entry's evidence file (photos, documents, press copies)."""
    attachment = Attachment.get_or_none(
        (Attachment.id == attachment_id) & (Attachment.entry == _assignment(entry_id).entry_id)
    )
    if attachment is None or not attachment.storage_key:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return attachment_response(attachment, disposition="inline")


@bp.put("/entries/<int:entry_id>/review")
@role_required("expert")
def save_review(entry_id: int):
    saved = scores.save_draft(_assignment(entry_id), json_object(), console_actor())
    return jsonify(scores.review_view(saved))


@bp.post("/entries/<int:entry_id>/review/submit")
@role_required("expert")
def submit_review(entry_id: int):
    submitted = scores.submit(_assignment(entry_id), json_object(), console_actor())
    return jsonify(scores.review_view(submitted))


@bp.post("/entries/<int:entry_id>/review/reopen")
@role_required("expert")
def reopen_review(entry_id: int):
    reopened = scores.reopen(_assignment(entry_id), console_actor(), by_organizer=False)
    return jsonify(scores.review_view(reopened))


@bp.post("/entries/<int:entry_id>/recuse")
@role_required("expert")
def recuse(entry_id: int):
    data = json_object()
    reason = data.get("reason") if isinstance(data.get("reason"), str) else ""
    notice = scores.recuse(_assignment(entry_id), reason, console_actor())
    jobs.start_notices([notice])
    return jsonify(recused=True)


@bp.post("/conflicts")
@role_required("expert")
def declare():
    row = conflicts.declare(_profile(), json_object(), console_actor())
    return jsonify(id=row.id), 201
