"""An expert's review of one entry: drafts that save whatever is typed, a submit that checks
everything at once, reopening (by the expert until the review deadline, by an organizer at
any time), and recusal (回避), which is recorded and gets the entry a replacement.

What an expert sees of an entry is `entry_for_expert`: the text and the unit, never the
route, the recommending department or the endorsement (blind review is impossible here:
the texts name the unit, so conflicts of interest do the protecting).
"""

from campaign.audit import record
from campaign.entries.wordcount import count_zi as count
from campaign.problems import problem
from campaign.review import runs
from campaign.review.conflicts import declare
from campaign.review.experts import profile_of
from campaign.review.refusals import REVIEW_MESSAGES, Invalid, Refused
from campaign.review.rubric import GATE_OPTIONS, review_closed, review_settings
from models import Assignment, Campaign, Entry, ExpertProfile, Score, db, utcnow

MAX_TEXT = 5000


def _problem(field: str, code: str, **details) -> dict:
    return problem(field, code, REVIEW_MESSAGES, **details)


def assignments_of(expert_account, campaign: Campaign):
    """The expert's live assignments in this campaign (entries in id order); none at all for
    an account that is not this campaign's expert. The API and the console both list these."""
    return (
        Assignment.select(Assignment, Entry)
        .join(Entry)
        .switch(Assignment)
        .join(ExpertProfile, on=(ExpertProfile.account == Assignment.expert))
        .where(
            (Assignment.expert == expert_account)
            & (ExpertProfile.campaign == campaign)
            & (Entry.campaign == campaign)
        )
        .order_by(Entry.id)
    )


def assignment_of(expert_account, campaign: Campaign, entry_id) -> Assignment | None:
    """The expert's assignment of this entry, or None: missing, unassigned and someone
    else's look the same, so entry ids cannot be probed."""
    return assignments_of(expert_account, campaign).where(Assignment.entry == entry_id).first()


def entry_for_expert(entry: Entry) -> dict:
    """The entry as an expert reads it: no route, department, channel or endorsement."""
    return {
        "id": entry.id,
        "track": entry.track,
        "domain": entry.domain,
        "themes": entry.themes,
        "title": entry.title,
        "unit": entry.unit.name,
        "abstract": entry.abstract,
        "background": entry.background,
        "approach": entry.approach,
        "results": entry.results,
        "significance": entry.significance,
        "attachments": [
            {
                "id": a.id,
                "kind": a.kind,
                "name": a.original_name,
                "mime": a.mime,
                "link": a.link,
                "file": bool(a.storage_key),
            }
            for a in entry.attachments
        ],
    }


def review_view(assignment: Assignment) -> dict:
    return {
        "assignment": assignment.id,
        "entry": assignment.entry_id,
        "gate": assignment.gate or None,
        "gate_remark": assignment.gate_remark,
        "scores": {s.criterion: {"value": s.value, "remark": s.comment} for s in assignment.scores},
        "comment": assignment.comment,
        "submitted": assignment.submitted_at is not None,
        "submitted_at": assignment.submitted_at and assignment.submitted_at.isoformat() + "Z",
        "total": total(assignment) if assignment.submitted_at else None,
    }


def total(assignment: Assignment) -> float:
    return round(sum(s.value for s in assignment.scores), 2)


def save_draft(assignment: Assignment, data: dict, actor: str) -> Assignment:
    """Store what was sent (numbers out of range included: submit judges); refuse only
    values that are not numbers or text at all."""
    _refuse_if_locked(assignment)
    settings = review_settings(assignment.entry.campaign)
    clean = _clean(data, settings)
    with db.atomic():
        fields = {k: clean[k] for k in ("gate", "gate_remark", "comment") if k in clean}
        Assignment.update(updated_at=utcnow(), **fields).where(
            Assignment.id == assignment.id
        ).execute()
        for code, (value, remark) in clean.get("scores", {}).items():
            if value is None:
                Score.delete().where(
                    (Score.assignment == assignment.id) & (Score.criterion == code)
                ).execute()
                continue
            Score.insert(
                assignment=assignment.id, criterion=code, value=value, comment=remark
            ).on_conflict(
                conflict_target=[Score.assignment, Score.criterion],
                update={Score.value: value, Score.comment: remark},
            ).execute()
    return Assignment.get_by_id(assignment.id)


def _clean(data: dict, settings: dict) -> dict:
    clean, problems = {}, []
    if "gate" in data:
        gate = data["gate"]
        if gate not in (None, "", *GATE_OPTIONS):
            problems.append(_problem("gate", "invalid_choice", choices=list(GATE_OPTIONS)))
        else:
            clean["gate"] = gate or ""
    for name in ("gate_remark", "comment"):
        if name in data:
            if not isinstance(data[name], str) or len(data[name]) > MAX_TEXT:
                problems.append(_problem(name, "invalid_type"))
            else:
                clean[name] = data[name]
    scores = data.get("scores", {})
    if not isinstance(scores, dict):
        problems.append(_problem("scores", "invalid_type"))
        scores = {}
    clean["scores"] = {}
    for code, given in scores.items():
        where = f"scores.{code}"
        if code not in settings["weights"]:
            problems.append(_problem(where, "invalid_choice"))
            continue
        value, remark = (
            (given.get("value"), given.get("remark", ""))
            if isinstance(given, dict)
            else (given, "")
        )
        if value is not None and not _finite(value):
            problems.append(_problem(where, "invalid_type"))
        elif not isinstance(remark, str) or len(remark) > MAX_TEXT:
            problems.append(_problem(f"{where}.remark", "invalid_type"))
        else:
            clean["scores"][code] = (None if value is None else float(value), remark)
    if problems:
        raise Invalid(problems)
    return clean


def _finite(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 1e9


def submit(assignment: Assignment, data: dict, actor: str) -> Assignment:
    """Save, then check everything at once (422 listing every problem) and submit."""
    assignment = save_draft(assignment, data, actor)
    settings = review_settings(assignment.entry.campaign)
    problems = []
    scores = {s.criterion: s.value for s in assignment.scores}
    for code, weight in settings["weights"].items():
        value = scores.get(code)
        if value is None:
            problems.append(_problem(f"scores.{code}", "required"))
        elif not 0 <= value <= weight:
            problems.append(_problem(f"scores.{code}", "out_of_range", min=0, max=weight))
    if not assignment.gate:
        problems.append(_problem("gate", "required"))
    elif assignment.gate != "pass" and not assignment.gate_remark.strip():
        problems.append(_problem("gate_remark", "required"))
    length = count(assignment.comment)
    if length < settings["comment_min"]:
        problems.append(_problem("comment", "too_short", count=length, min=settings["comment_min"]))
    if problems:
        raise Invalid(problems)
    with db.atomic():
        moved = (
            Assignment.update(submitted_at=utcnow())
            .where((Assignment.id == assignment.id) & Assignment.submitted_at.is_null())
            .execute()
        )
        if not moved:
            raise Refused("review_submitted", "该评审已提交")
        record(
            actor,
            "review.submit",
            assignment,
            None,
            {"total": total(assignment)},
            assignment.entry.campaign_id,
        )
    return Assignment.get_by_id(assignment.id)


def reopen(assignment: Assignment, actor: str, by_organizer: bool) -> Assignment:
    """Back to a draft: the expert themself until the review deadline, organizers always."""
    if not assignment.submitted_at:
        raise Refused("review_not_submitted", "该评审尚未提交")
    if not by_organizer and review_closed(assignment.entry.campaign):
        raise Refused("review_closed", "评审已截止，请联系组织者重新开放")
    with db.atomic():
        Assignment.update(submitted_at=None, updated_at=utcnow()).where(
            Assignment.id == assignment.id
        ).execute()
        record(actor, "review.reopen", assignment, None, None, assignment.entry.campaign_id)
    return Assignment.get_by_id(assignment.id)


def _refuse_if_locked(assignment: Assignment) -> None:
    if assignment.submitted_at:
        raise Refused("review_submitted", "评审已提交；如需修改请先撤回提交")
    if review_closed(assignment.entry.campaign):
        raise Refused("review_closed", "评审已截止")


def recuse(assignment: Assignment, reason: str, actor: str) -> int | None:
    """The expert steps aside: the recusal is recorded (every later run honours it), the pair
    goes, and the least-loaded eligible expert takes the entry (pinned; told through the
    outbox). Returns the replacement's notice id, if any."""
    if assignment.submitted_at:
        raise Refused("review_submitted", "评审已提交，不能回避")
    entry = assignment.entry
    with db.atomic():
        declare(
            profile_of(assignment.expert),
            {"entry": entry.id, "reason": reason},
            actor,
            kind="recusal",
        )
        runs.remove_pair(assignment, actor)
        replacement = runs.replacement_for(entry.campaign, entry)
        if replacement is None:
            return None
        return runs.add_pair(entry.campaign, replacement, entry.id, "system:recusal")[1]
