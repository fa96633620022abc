"""An expert's pages: 我的评审 (their assigned entries, how many are submitted, the review
deadline), one assigned entry to read with its evidence, and the rubric form — drafts
autosaved as typed, submit, reopen before the deadline, recusal (回避) with a reason.

Every rule is `campaign.review.scores`' (the same functions as `api/expert/reviews.py`), and
the entry reaches the templates only as `scores.entry_for_expert`: no route, recommending
department or endorsement. An entry not assigned to the expert is a 404, like a missing one.
"""

from contextlib import contextmanager

from flask import Blueprint, redirect, request, url_for

from api.errors import ApiError
from api.unit.attachments import attachment_file
from campaign.definition import options
from campaign.entries.wordcount import count_zi
from campaign.review import rubric, scores
from campaign.review.refusals import Invalid, Refused
from campaign.review.rubric import review_closed
from models import Assignment, Attachment, Campaign, ConflictDeclaration, Score
from pages.console.changes import FIELD_LABELS
from pages.console.entries import IMAGE_MIMES
from pages.console.layout import account, actor, campaign_or_404, page_for, paginate, render
from tasks import review as jobs

bp = Blueprint("expert", __name__, url_prefix="/expert")

VIDEO_MIMES = ("video/mp4", "video/quicktime")
ELEMENTS = ("background", "approach", "results", "significance")
NOT_ASSIGNED = "该案例不存在或未分配给您评审"


@bp.get("")
@page_for("expert")
def home():
    campaign = campaign_or_404()
    query = scores.assignments_of(account(), campaign)
    total = query.count()
    submitted = query.where(Assignment.submitted_at.is_null(False)).count()
    pager = paginate(query)
    return render(
        "console/expert_home.html",
        "assignments",
        pager=pager,
        started=_started(pager["rows"]),
        total=total,
        submitted=submitted,
        deadline=campaign.review_closes_at,
        closed=review_closed(campaign),
        names=_names(campaign),
        recused=_recused(request.args.get("recused", type=int)),
    )


@bp.get("/entries/<int:entry_id>")
@page_for("expert")
def show(entry_id: int):
    return _page(_assignment(entry_id))


@bp.get("/entries/<int:entry_id>/attachments/<int:attachment_id>")
@page_for("expert")
def attachment(entry_id: int, attachment_id: int):
    """Evidence of an assigned entry: photos and videos inline, other files as downloads."""
    found = Attachment.get_or_none(
        (Attachment.id == attachment_id) & (Attachment.entry == _assignment(entry_id).entry_id)
    )
    if found is None or not found.storage_key:
        raise ApiError(404, "not_found", "请求的内容不存在")
    inline = found.mime in IMAGE_MIMES + VIDEO_MIMES
    return attachment_file(found, "inline" if inline else "attachment")


@bp.post("/entries/<int:entry_id>/review")
@page_for("expert")
def save(entry_id: int):
    """The autosave (htmx, as the expert types) and the 保存草稿 button."""
    assignment = _assignment(entry_id)
    the_rubric = rubric.rubric(assignment.entry.campaign)
    with _rules(the_rubric):
        saved = scores.save_draft(assignment, _review_data(the_rubric), actor())
    return _page(saved, "autosave", just_saved=True)


@bp.post("/entries/<int:entry_id>/review/submit")
@page_for("expert")
def submit(entry_id: int):
    assignment = _assignment(entry_id)
    the_rubric = rubric.rubric(assignment.entry.campaign)
    with _rules(the_rubric):
        submitted = scores.submit(assignment, _review_data(the_rubric), actor())
    return _page(submitted, "review")


@bp.post("/entries/<int:entry_id>/review/reopen")
@page_for("expert")
def reopen(entry_id: int):
    assignment = _assignment(entry_id)
    with _rules(rubric.rubric(assignment.entry.campaign)):
        reopened = scores.reopen(assignment, actor(), by_organizer=False)
    return _page(reopened, "review")


@bp.post("/entries/<int:entry_id>/recuse")
@page_for("expert")
def recuse(entry_id: int):
    """回避: a reason is required; the entry goes to another expert and leaves this list."""
    assignment = _assignment(entry_id)
    reason = request.form.get("reason", "").strip()[:1000]
    if not reason:
        raise ApiError(
            422,
            "validation_failed",
            "申请回避时请填写回避原因",
            [{"field": "reason", "label": "回避原因", "code": "required", "message": "请填写"}],
        )
    with _rules(rubric.rubric(assignment.entry.campaign)):
        notice = scores.recuse(assignment, reason, actor())
    jobs.start_notices([notice])
    target = url_for(".home", recused=entry_id)
    if request.headers.get("HX-Request"):
        return "", 204, {"HX-Redirect": target}
    return redirect(target, 303)


def _assignment(entry_id: int):
    found = scores.assignment_of(account(), campaign_or_404(), entry_id)
    if found is None:
        raise ApiError(404, "not_found", NOT_ASSIGNED)
    return found


def _page(assignment, block: str | None = None, **extra):
    """The reading view and the rubric form of one assignment (or one block of it)."""
    campaign = assignment.entry.campaign
    review = scores.review_view(assignment)
    return render(
        "console/expert_entry.html",
        block,
        entry=scores.entry_for_expert(assignment.entry),
        review=review,
        rubric=rubric.rubric(campaign),
        draft_total=round(sum(s["value"] for s in review["scores"].values()), 2),
        comment_count=count_zi(review["comment"]),
        closed=review_closed(campaign),
        deadline=campaign.review_closes_at,
        saved_at=assignment.updated_at,
        submitted_at=assignment.submitted_at,
        names=_names(campaign),
        elements=[(FIELD_LABELS[name], name) for name in ELEMENTS],
        image_mimes=IMAGE_MIMES,
        video_mimes=VIDEO_MIMES,
        **extra,
    )


def _recused(entry_id: int | None) -> int | None:
    """The entry of `?recused=` when this expert did recuse it (the page says so once)."""
    if entry_id is None or not 0 < entry_id < 2**31:
        return None
    done = ConflictDeclaration.select().where(
        (ConflictDeclaration.expert == account())
        & (ConflictDeclaration.entry == entry_id)
        & (ConflictDeclaration.kind == "recusal")
    )
    return entry_id if done.exists() else None


def _started(rows) -> set:
    """Assignments with anything saved: a gate, a comment or a score."""
    ids = [a.id for a in rows]
    scored = Score.select(Score.assignment).where(Score.assignment.in_(ids)).distinct()
    return {a.id for a in rows if a.gate or a.comment} | {s.assignment_id for s in scored}


def _names(campaign: Campaign) -> dict:
    """Code → label of the tracks and domains (what an expert may know of an entry)."""
    return {
        kind: {o.code: o.label for o in options(campaign, kind)} for kind in ("track", "domain")
    }


def _review_data(the_rubric: dict) -> dict:
    """The rubric form as the rules' JSON: numbers where numbers were typed, None for empty
    boxes, and anything else as typed (the rules refuse it with `invalid_type`)."""
    form = request.form
    data = {name: form.get(name, "") for name in ("gate", "gate_remark", "comment")}
    data["scores"] = {
        c["code"]: {
            "value": _number(form.get(f"score-{c['code']}", "")),
            "remark": form.get(f"remark-{c['code']}", ""),
        }
        for c in the_rubric["criteria"]
    }
    return data


def _number(text: str):
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return text


@contextmanager
def _rules(the_rubric: dict):
    """The review rules' refusals as the console's `ApiError` (422 / 409), each problem
    named by its Chinese label so the page can say which box to fix."""
    try:
        yield
    except Invalid as invalid:
        fields = [_labelled(p, the_rubric) for p in invalid.problems]
        first = fields[0]["label"] + "：" + fields[0]["message"] if fields else ""
        message = f"还有 {len(fields)} 处需要完善：{first}" if len(fields) > 1 else first
        raise ApiError(422, "validation_failed", message, fields) from None
    except Refused as refused:
        raise ApiError(409, refused.code, refused.message, refused.fields) from None


def _labelled(problem: dict, the_rubric: dict) -> dict:
    labels = {
        "gate": the_rubric["gate"]["label"] or "政治性",
        "gate_remark": "政治性说明",
        "comment": "专家点评",
        **{f"scores.{c['code']}": c["label"] for c in the_rubric["criteria"]},
        **{f"scores.{c['code']}.remark": c["label"] + "评语" for c in the_rubric["criteria"]},
    }
    message = problem["message"]
    if problem["code"] == "out_of_range":
        message += f"（{problem.get('min', 0)}–{problem.get('max')} 分）"
    if problem["code"] == "too_short" and "min" in problem:
        message += f"（已写 {problem.get('count', 0)} 字，至少 {problem['min']} 字）"
    return {**problem, "label": labels.get(problem["field"], problem["field"]), "message": message}
