"""`/h5/notices`: consent to the campaign's notices (deadline reminders, results, …).

The answers go where the mini-program's popup answers go (`tasks.consent` →
`campaign.notices.subscriptions`), so the outbox spends them the same way.
"""

from flask import Blueprint, redirect, render_template, request

from models import MessageTemplate, SubscriptionGrant
from pages.h5.common import signed_in, the_campaign
from tasks.consent import record_reported_answers

bp = Blueprint("notices", __name__)


def _templates(campaign):
    return list(
        MessageTemplate.select()
        .where(MessageTemplate.campaign == campaign)
        .order_by(MessageTemplate.id)
    )


@bp.get("/notices")
def show():
    user = signed_in()
    templates = _templates(the_campaign())
    grants = {
        grant.template_id: grant.remaining
        for grant in SubscriptionGrant.select().where(SubscriptionGrant.user == user)
    }
    return render_template(
        "h5/notices.html", templates=templates, grants=grants, done=request.args.get("done")
    )


@bp.post("/notices")
def save():
    user = signed_in()
    chosen = set(request.form.getlist("template"))
    answers = {
        template.template_id: "accept" if template.template_id in chosen else "reject"
        for template in _templates(the_campaign())
    }
    if answers:
        record_reported_answers(user, answers, "api")
    return redirect("/h5/notices?done=saved", 303)
