"""Organizer endpoints for message templates: which WeChat template, how it is filled."""

from flask import Blueprint, jsonify

from api.access import open_campaign
from api.payload import json_object
from api.security import console_actor, role_required
from campaign.notices import templates as template_rules
from campaign.problems import Invalid, NotFound
from models import MessageTemplate

bp = Blueprint("org_templates_api", __name__, url_prefix="/api/v1/org")


@bp.get("/templates")
@role_required("organizer")
def list_templates():
    rows = MessageTemplate.select().where(MessageTemplate.campaign == open_campaign())
    return jsonify(items=[template_payload(t) for t in rows.order_by(MessageTemplate.id)])


@bp.post("/templates")
@role_required("organizer")
def create_template():
    clean, problems = template_rules.check_template(json_object())
    if problems:
        raise Invalid(problems)
    return jsonify(template_payload(_save_template(clean))), 201


@bp.patch("/templates/<int:template_id>")
@role_required("organizer")
def update_template(template_id: int):
    template = _template(template_id)
    clean, problems = template_rules.check_template(json_object(), current=template)
    if problems:
        raise Invalid(problems)
    return jsonify(template_payload(_save_template(clean, template)))


@bp.delete("/templates/<int:template_id>")
@role_required("organizer")
def delete_template(template_id: int):
    template_rules.delete_template(_template(template_id), console_actor())
    return "", 204


def _save_template(clean: dict, template=None) -> MessageTemplate:
    return template_rules.save_template(open_campaign(), clean, console_actor(), template)


def _template(template_id: int) -> MessageTemplate:
    template = template_rules.campaign_template(open_campaign(), template_id)
    if template is None:
        raise NotFound()
    return template


def template_payload(template: MessageTemplate | None) -> dict | None:
    if template is None:
        return None
    return {
        "id": template.id,
        "template_id": template.template_id,
        "title": template.title,
        "channel": template.channel,
        "purpose": template.purpose,
        "long_term": template.long_term,
        "fields": template.fields,
        "page": template.page,
    }
