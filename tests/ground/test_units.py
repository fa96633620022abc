"""Unit profiles, checked and saved as plain functions: every problem at once, phone numbers
as people type them, audited create and update."""

import pytest

from campaign import units
from campaign.pii import mask_phone
from campaign.problems import Invalid
from models import AuditLog, Unit, WechatUser
from tests.factories import UNIT


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("13800138000", "13800138000"),
        (" 138 0013 8000 ", "13800138000"),
        ("+8613800138000", "13800138000"),
        ("0591-87808286", "0591-87808286"),
        ("059187808286", "059187808286"),
        ("(0591)87808286", "0591-87808286"),
        ("（0591）87808286－661", "0591-87808286-661"),
    ],
)
def test_phone_numbers_are_normalized_and_accepted(campaign, typed, stored):
    values, problems = units.check_unit(campaign, {**UNIT, "contact_phone": typed})
    assert problems == []
    assert values["contact_phone"] == stored


@pytest.mark.parametrize("typed", ["12345678901", "1380013800", "87808286", "0591-123", "电话"])
def test_bad_phone_numbers_are_a_problem(campaign, typed):
    _, problems = units.check_unit(campaign, {**UNIT, "contact_phone": typed})
    assert [(p["field"], p["code"]) for p in problems] == [("contact_phone", "invalid_phone")]


def test_every_problem_is_reported_at_once(campaign):
    data = {
        "name": "某" * 101,
        "region": "火星",
        "domain": "space",
        "org_level": "",
        "contact_name": 42,
    }
    values, problems = units.check_unit(campaign, data)
    found = {(p["field"], p["code"]) for p in problems}
    assert found == {
        ("name", "too_long"),
        ("region", "invalid_choice"),
        ("domain", "invalid_choice"),
        ("org_level", "required"),
        ("contact_name", "required"),
        ("contact_phone", "required"),
    }
    assert all(p["message"] for p in problems)
    assert next(p for p in problems if p["field"] == "name")["max"] == 100


def test_values_are_trimmed_and_other_keys_dropped(campaign):
    values, problems = units.check_unit(
        campaign, {**UNIT, "name": "  某社区党委 ", "phone_verified": True}
    )
    assert problems == []
    assert values["name"] == "某社区党委"
    assert set(values) == set(units.FIELDS)


def test_contact_name_has_its_own_limit(campaign):
    _, problems = units.check_unit(campaign, {**UNIT, "contact_name": "王" * 31})
    assert [(p["field"], p["code"], p["max"]) for p in problems] == [
        ("contact_name", "too_long", 30)
    ]


def test_save_creates_then_updates_with_audit(campaign):
    user = WechatUser.create(app="wxa", openid="o-unit")
    created = units.save_unit(campaign, user, None, UNIT)
    assert (created.owner_id, created.name) == (user.id, UNIT["name"])
    first = AuditLog.get(AuditLog.action == "unit.create")
    # the audit trail keeps the phone masked (issue 10)
    masked = {**UNIT, "contact_phone": mask_phone(UNIT["contact_phone"])}
    assert (first.actor, first.before, first.after) == (f"user:{user.id}", None, masked)
    assert UNIT["contact_phone"] not in str(first.after)
    updated = units.save_unit(campaign, user, created, {**UNIT, "region": "厦门市"})
    assert updated.region == "厦门市" == Unit.get_by_id(created.id).region
    assert Unit.select().count() == 1
    change = AuditLog.get(AuditLog.action == "unit.update")
    assert change.before["region"] == "福州市" and change.after["region"] == "厦门市"


def test_an_invalid_profile_writes_nothing(campaign):
    user = WechatUser.create(app="wxa", openid="o-unit")
    with pytest.raises(Invalid) as caught:
        units.save_unit(campaign, user, None, {**UNIT, "region": "火星", "contact_phone": "1"})
    assert len(caught.value.problems) == 2 and caught.value.status == 422
    assert Unit.select().count() == 0 and AuditLog.select().count() == 0


def test_a_profile_whose_audit_fails_is_not_saved(campaign, monkeypatch):
    user = WechatUser.create(app="wxa", openid="o-unit")

    def broken(*args, **kwargs):
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(units, "record", broken)
    with pytest.raises(RuntimeError):
        units.save_unit(campaign, user, None, UNIT)
    assert Unit.select().count() == 0
