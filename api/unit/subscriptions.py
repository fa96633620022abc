"""`POST /api/v1/subscriptions`: what the user answered in the subscribe popup; `GET` shows
the caller's grants, so the mini-program knows when to ask again."""

import re

from flask import Blueprint, jsonify

from api.errors import ApiError
from api.payload import json_object
from api.security import current_user, login_required
from campaign.notices.problems import notice_problem
from models import SubscriptionGrant
from tasks.consent import record_reported_answers

bp = Blueprint("subscriptions_api", __name__, url_prefix="/api/v1")

ANSWERS = ("accept", "reject")
TEMPLATE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
MAX_TEMPLATES = 10  # WeChat's popup asks for at most three at a time


@bp.post("/subscriptions")
@login_required
def report_answers():
    """`{"<template_id>": "accept" | "reject", …}` → `{"grants": {"<template_id>": remaining}}`."""
    answers = json_object()
    problems = [
        notice_problem(str(template_id)[:128], "invalid_choice", choices=list(ANSWERS))
        for template_id, answer in answers.items()
        if not TEMPLATE_ID.fullmatch(template_id) or answer not in ANSWERS
    ]
    if not answers:
        problems.append(notice_problem("subscriptions", "required"))
    if len(answers) > MAX_TEMPLATES:
        problems.append(notice_problem("subscriptions", "too_many", max=MAX_TEMPLATES))
    if problems:
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", problems)
    return jsonify(grants=record_reported_answers(current_user(), answers, "api"))


@bp.get("/subscriptions")
@login_required
def my_grants():
    """`{"grants": {"<template_id>": {"remaining": n, "long_term": bool}}}`."""
    grants = SubscriptionGrant.select().where(SubscriptionGrant.user == current_user())
    return jsonify(
        grants={
            grant.template_id: {"remaining": grant.remaining, "long_term": grant.long_term}
            for grant in grants
        }
    )
