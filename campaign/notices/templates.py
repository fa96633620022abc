"""Message templates an organizer configures per campaign: which WeChat template, one-time or
long-term, how each keyword is filled, and which page it opens.

A mini-program subscribe template (`wxa_subscribe`) needs the user's consent for each send;
an official-account template (`mp_template`) reaches followers, and serves as a notice's
fallback. `purpose` tells automatic reminders which template to use.
"""

import re

from peewee import IntegrityError

from campaign.audit import record
from campaign.notices.problems import is_row_id, notice_problem
from campaign.notices.template_values import KEYWORD_NAME, SOURCES, TYPES, check_value, keyword_type
from campaign.problems import Refused
from models import Campaign, MessageTemplate, Notice, db

CHANNELS = ("wxa_subscribe", "mp_template")
PURPOSES = (
    "deadline",
    "endorsement",
    "review",
    "mailin",
    "result",
    "awarded",
    "not_selected",
    "general",
    "publication",
    "exchange",
    "status",
)
TEMPLATE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
MAX_FIELDS = 20


class TemplateExists(Refused):
    """The campaign already has a template with this WeChat template id."""

    def __init__(self):
        super().__init__("template_exists", "本活动已配置该微信模板")


class TemplateInUse(Refused):
    """A notice uses the template, so it cannot be deleted."""

    def __init__(self):
        super().__init__("template_in_use", "该模板已被通知使用，不能删除")


def check_template(data: dict, current: MessageTemplate | None = None) -> tuple[dict, list]:
    """Clean the fields present in `data` (all required when creating); return (clean, problems)."""
    clean, problems = {}, []
    creating = current is None
    checks = (
        ("template_id", _template_id),
        ("title", _title),
        ("channel", _choice(CHANNELS)),
        ("purpose", _choice(PURPOSES)),
        ("long_term", _flag),
        ("fields", _fields),
        ("page", _page),
    )
    optional = {"purpose": "general", "long_term": False, "page": ""}
    for name, check in checks:
        if name not in data:
            if creating and name in optional:
                clean[name] = optional[name]
            elif creating:
                problems.append(notice_problem(name, "required"))
            continue
        value, found = check(name, data[name])
        problems += found
        clean[name] = value
    channel = clean.get("channel", current.channel if current else None)
    if channel == "mp_template" and clean.get("long_term"):
        problems.append(notice_problem("long_term", "wrong_channel"))
    return clean, problems


def _template_id(name, value):
    ok = isinstance(value, str) and TEMPLATE_ID.fullmatch(value)
    return value, [] if ok else [notice_problem(name, "invalid_format")]


def _title(name, value):
    if not isinstance(value, str) or not value.strip():
        return value, [notice_problem(name, "required")]
    if len(value) > 100:
        return value, [notice_problem(name, "too_long", count=len(value), max=100)]
    return value.strip(), []


def _choice(choices):
    def check(name, value):
        ok = value in choices
        return value, [] if ok else [notice_problem(name, "invalid_choice", choices=list(choices))]

    return check


def _flag(name, value):
    return value, [] if isinstance(value, bool) else [notice_problem(name, "invalid_type")]


def _page(name, value):
    if not isinstance(value, str):
        return value, [notice_problem(name, "invalid_type")]
    if len(value) > 255:
        return value, [notice_problem(name, "too_long", count=len(value), max=255)]
    return value.strip(), []


def _fields(name, value):
    """`{keyword: {label, type?, source?, value?}}`: how each keyword of the template is filled."""
    if not isinstance(value, dict) or not value:
        return value, [notice_problem(name, "required")]
    if len(value) > MAX_FIELDS:
        return value, [notice_problem(name, "too_many", max=MAX_FIELDS)]
    clean, problems = {}, []
    for key, spec in value.items():
        where = f"{name}.{key}"
        if not KEYWORD_NAME.fullmatch(key) or len(key) > 32 or not isinstance(spec, dict):
            problems.append(notice_problem(where, "invalid_format"))
            continue
        spec_clean, found = _field_spec(where, key, spec)
        problems += found
        clean[key] = spec_clean
    return clean, problems


def _field_spec(where: str, key: str, spec: dict) -> tuple[dict, list]:
    problems = []
    label = spec.get("label", key)
    if not isinstance(label, str) or len(label) > 20:
        problems.append(notice_problem(f"{where}.label", "invalid_format"))
    clean = {"label": label}
    if "type" in spec:
        if not isinstance(spec["type"], str) or spec["type"] not in TYPES:
            problems.append(notice_problem(f"{where}.type", "invalid_choice", choices=list(TYPES)))
        clean["type"] = spec["type"]
    if "source" in spec:
        if not isinstance(spec["source"], str) or spec["source"] not in SOURCES:
            problems.append(
                notice_problem(f"{where}.source", "invalid_choice", choices=list(SOURCES))
            )
        clean["source"] = spec["source"]
    if spec.get("value") not in (None, ""):
        found = check_value(f"{where}.value", keyword_type(key, spec.get("type")), spec["value"])
        problems += [found] if found else []
        clean["value"] = spec["value"]
    return clean, problems


def save_template(
    campaign: Campaign, clean: dict, actor: str, template: MessageTemplate | None = None
) -> MessageTemplate:
    """Create the template, or update `template` with `clean`; audited."""
    try:
        with db.atomic():
            if template is None:
                template = MessageTemplate.create(campaign=campaign, **clean)
                record(actor, "template.create", template, None, clean, campaign=campaign)
            else:
                before = {key: getattr(template, key) for key in clean}
                MessageTemplate.update(**clean).where(MessageTemplate.id == template.id).execute()
                record(actor, "template.update", template, before, clean, campaign=campaign)
    except IntegrityError:
        raise TemplateExists() from None
    return MessageTemplate.get_by_id(template.id)


def delete_template(template: MessageTemplate, actor: str) -> None:
    """Delete a template no notice uses."""
    used = Notice.select().where(
        (Notice.template == template) | (Notice.fallback_template == template)
    )
    with db.atomic():
        if used.exists():
            raise TemplateInUse()
        before = {"template_id": template.template_id}
        record(actor, "template.delete", template, before, None, campaign=template.campaign_id)
        template.delete_instance()


def campaign_template(campaign: Campaign, template_pk) -> MessageTemplate | None:
    """The campaign's template with this row id, else None."""
    if not is_row_id(template_pk):
        return None
    return MessageTemplate.get_or_none(
        (MessageTemplate.id == template_pk) & (MessageTemplate.campaign == campaign)
    )
