"""Organizer pages over the people of review: experts (list with load and progress, invite,
pause) and conflicts (declared ones, added and withdrawn; the structural ones the rules
detect). The rules are `campaign.review.experts` and `campaign.review.conflicts`, as for
`api/org/experts.py` and `api/org/review.py`."""

from flask import Blueprint, request
from peewee import fn

from campaign.definition import options
from campaign.review import conflicts, experts
from campaign.review.refusals import Invalid
from campaign.review.runs import pool
from models import Account, Assignment, ConflictDeclaration, Department, Entry, ExpertProfile
from pages.console.layout import actor, campaign_or_404, paginate, render
from pages.console.review import (
    KIND_LABELS,
    form_id,
    not_found,
    paginate_list,
    review_page,
)

bp = Blueprint("review_people", __name__, url_prefix="/review")


@bp.get("/experts")
@review_page
def experts_page():
    return render("console/review_experts.html", "experts", **_experts_context())


def _experts_context(**extra) -> dict:
    campaign = campaign_or_404()
    query = (
        ExpertProfile.select(ExpertProfile, Account)
        .join(Account)
        .where(ExpertProfile.campaign == campaign)
        .order_by(Account.id)
    )
    return {
        "pager": paginate(query),
        "loads": _loads(campaign),
        "domains": {o.code: o.label for o in options(campaign, "domain")},
        "departments": _departments(campaign),
        **extra,
    }


def _loads(campaign) -> dict:
    """expert id → (assigned, submitted), over live assignments."""
    rows = (
        Assignment.select(
            Assignment.expert, fn.COUNT(Assignment.id), fn.COUNT(Assignment.submitted_at)
        )
        .join(Entry)
        .where(Entry.campaign == campaign)
        .group_by(Assignment.expert)
        .tuples()
    )
    return {expert: (assigned, done) for expert, assigned, done in rows}


def _departments(campaign):
    return list(
        Department.select().where(Department.campaign == campaign).order_by(Department.name)
    )


@bp.post("/experts")
@review_page
def invite():
    """The initial password is shown once, in the answer."""
    form = request.form
    cap = form.get("cap", "").strip()
    data = {
        "username": form.get("username", "").strip(),
        "display_name": form.get("display_name", ""),
        "domains": form.getlist("domains"),
        "cap": int(cap) if cap.isdigit() else (cap or 120),
        "organization": form.get("organization", ""),
        "region": form.get("region", ""),
    }
    if form.get("password"):
        data["password"] = form["password"]
    if form_id("department") is not None:
        data["department"] = form_id("department")
    if not data["organization"]:
        data.pop("organization")
    profile, password = experts.invite(campaign_or_404(), data, actor())
    return render(
        "console/review_experts.html",
        "experts",
        **_experts_context(invited=profile, password=password),
    )


@bp.post("/experts/<int:expert_id>/<any(pause, resume):action>")
@review_page
def pause(expert_id: int, action: str):
    """Pause an expert (no new assignments, no sign-in) or take them back."""
    profile = ExpertProfile.get_or_none(
        (ExpertProfile.account == expert_id) & (ExpertProfile.campaign == campaign_or_404())
    )
    if profile is None:
        raise not_found()
    experts.update(profile, {"active": action == "resume"}, actor())
    return render("console/review_experts.html", "experts", **_experts_context())


@bp.get("/conflicts")
@review_page
def conflicts_page():
    return render("console/review_conflicts.html", "declared", **_conflicts_context())


@bp.get("/conflicts/detected")
@review_page
def detected():
    """The structural conflicts, computed over every expert × pooled entry (on demand)."""
    campaign = campaign_or_404()
    found = conflicts.detected(campaign, experts.profiles(campaign), pool(campaign))
    return render(
        "console/review_conflicts.html",
        "detected",
        found=paginate_list(found),
        reasons=conflicts.REASONS,
        **_conflicts_context(),
    )


def _conflicts_context() -> dict:
    campaign = campaign_or_404()
    query = (
        ConflictDeclaration.select(ConflictDeclaration, Account)
        .join(Account, on=(ConflictDeclaration.expert == Account.id))
        .join(ExpertProfile, on=(ExpertProfile.account == Account.id))
        .where(ExpertProfile.campaign == campaign)
        .order_by(ConflictDeclaration.id.desc())
    )
    return {
        "declared": paginate(query),
        "kinds": KIND_LABELS,
        "experts": experts.profiles(campaign),
        "departments": _departments(campaign),
    }


@bp.post("/conflicts")
@review_page
def declare():
    campaign = campaign_or_404()
    expert_id = form_id("expert")
    profile = next((p for p in experts.profiles(campaign) if p.account_id == expert_id), None)
    if profile is None:
        raise Invalid([{"field": "expert", "code": "not_found", "message": "请选择评审专家"}])
    data = {name: form_id(name) for name in ("entry", "unit", "department")}
    data = {name: value for name, value in data.items() if value is not None}
    data["reason"] = request.form.get("reason", "")
    conflicts.declare(profile, data, actor())
    return render("console/review_conflicts.html", "declared", **_conflicts_context())


@bp.post("/conflicts/<int:conflict_id>/withdraw")
@review_page
def withdraw(conflict_id: int):
    row = conflicts.declaration_of(campaign_or_404(), conflict_id)
    if row is None:
        raise not_found()
    conflicts.withdraw(row, actor())
    return render("console/review_conflicts.html", "declared", **_conflicts_context())
