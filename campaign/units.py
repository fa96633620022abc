"""Unit profiles: the grassroots party organization behind a contact person's entries."""

import re

from peewee import IntegrityError

from campaign.audit import record
from campaign.definition import options
from campaign.names import clean_name
from campaign.problems import Invalid, problem
from models import Campaign, Unit, WechatUser, db, utcnow, write_transaction

FIELDS = ("name", "region", "domain", "org_level", "contact_name", "contact_phone")
MAX_LENGTH = {"name": 100, "contact_name": 30}
MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


def normalize_phone(raw: str) -> str:
    """`(0591)87808286-661` → `0591-87808286-661`; spaces and full-width dashes dropped."""
    text = raw.strip().replace("（", "(").replace("）", ")").replace("－", "-").replace(" ", "")
    text = re.sub(r"^\((0\d{2,3})\)", r"\1-", text)
    return text.removeprefix("+86")


def check_unit(campaign: Campaign, data: dict) -> tuple[dict, list[dict]]:
    """Clean values and every problem with them, at once."""
    values = {name: data.get(name) for name in FIELDS}
    problems = []
    for name in FIELDS:
        value = values[name]
        if not isinstance(value, str) or not clean_name(value):
            problems.append(problem(name, "required"))
            continue
        values[name] = clean_name(value)
        if len(values[name]) > MAX_LENGTH.get(name, 100):
            problems.append(problem(name, "too_long", max=MAX_LENGTH.get(name, 100)))
    choices = {
        "region": campaign.regions,
        "domain": [o.code for o in options(campaign, "domain")],
        "org_level": campaign.org_levels,
    }
    for name, allowed in choices.items():
        if isinstance(values[name], str) and values[name] and values[name] not in allowed:
            problems.append(problem(name, "invalid_choice", value=values[name]))
    phone = values["contact_phone"]
    if isinstance(phone, str) and phone:
        values["contact_phone"] = normalize_phone(phone)
        if not (MOBILE.match(values["contact_phone"]) or LANDLINE.match(values["contact_phone"])):
            problems.append(problem("contact_phone", "invalid_phone"))
    return values, problems


def save_unit(campaign: Campaign, user: WechatUser, unit: Unit | None, data: dict) -> Unit:
    """Create or replace the caller's unit profile; raise Invalid listing every problem."""
    values, problems = check_unit(campaign, data)
    if problems:
        raise Invalid(problems)
    if unit is None:
        try:
            with db.atomic():
                unit = Unit.create(campaign=campaign, owner=user, **values)
                record(f"user:{user.id}", "unit.create", unit, None, values, campaign.id)
                return unit
        except IntegrityError:  # a concurrent first PUT created it: this one updates it
            pass
    with write_transaction():
        unit = (
            Unit.get((Unit.campaign == campaign) & (Unit.owner == user)) if unit is None else unit
        )
        before = {name: getattr(unit, name) for name in FIELDS}
        Unit.update(**values, updated_at=utcnow()).where(Unit.id == unit.id).execute()
        record(f"user:{user.id}", "unit.update", unit, before, values, campaign.id)
    return Unit.get_by_id(unit.id)
