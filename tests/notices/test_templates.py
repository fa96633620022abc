"""Message templates as plain functions: every problem of a template at once, one WeChat
template per campaign, and no deleting what a notice uses."""

import pytest

from campaign.notices import templates
from models import AuditLog, MessageTemplate, Notice
from tests.factories import other_campaign

GOOD = {
    "template_id": "tmpl_Deadline-01",
    "title": "截止提醒",
    "channel": "wxa_subscribe",
    "fields": {
        "thing1": {"label": "活动名称", "source": "campaign_title"},
        "time2": {"label": "截止时间", "source": "deadline"},
        "thing3": {"label": "温馨提示", "value": "请尽快提交"},
    },
}


def found(problems):
    return {(p["field"], p["code"]) for p in problems}


def test_a_new_template_gets_its_defaults(app):
    clean, problems = templates.check_template({**GOOD, "title": "  截止提醒 "})
    assert problems == []
    assert clean["title"] == "截止提醒"
    assert (clean["purpose"], clean["long_term"], clean["page"]) == ("general", False, "")
    assert clean["fields"]["thing3"] == {"label": "温馨提示", "value": "请尽快提交"}


def test_a_new_template_needs_its_id_title_channel_and_fields(app):
    _, problems = templates.check_template({})
    assert found(problems) == {
        ("template_id", "required"),
        ("title", "required"),
        ("channel", "required"),
        ("fields", "required"),
    }
    assert all(p["message"] for p in problems)


def test_every_bad_value_is_listed_at_once(app):
    data = {
        "template_id": "模板 1",
        "title": "题" * 101,
        "channel": "sms",
        "purpose": "party",
        "long_term": "yes",
        "page": 7,
        "fields": {
            "1bad": {"label": "x"},
            "thing1": "not a spec",
            "thing2": {"label": "标签" * 11, "type": "colour", "source": "weather"},
            "phrase3": {"label": "状态", "value": "太长的一个短语"},
        },
    }
    _, problems = templates.check_template(data)
    assert found(problems) == {
        ("template_id", "invalid_format"),
        ("title", "too_long"),
        ("channel", "invalid_choice"),
        ("purpose", "invalid_choice"),
        ("long_term", "invalid_type"),
        ("page", "invalid_type"),
        ("fields.1bad", "invalid_format"),
        ("fields.thing1", "invalid_format"),
        ("fields.thing2.label", "invalid_format"),
        ("fields.thing2.type", "invalid_choice"),
        ("fields.thing2.source", "invalid_choice"),
        ("fields.phrase3.value", "too_long"),
    }
    channel = next(p for p in problems if p["field"] == "channel")
    assert channel["choices"] == list(templates.CHANNELS)


def test_too_many_fields_and_a_too_long_page(app):
    many = {f"thing{n}": {"label": "x"} for n in range(templates.MAX_FIELDS + 1)}
    _, problems = templates.check_template({**GOOD, "fields": many, "page": "p" * 256})
    assert found(problems) == {("fields", "too_many"), ("page", "too_long")}


def test_long_term_is_for_subscribe_templates_only(app):
    _, problems = templates.check_template({**GOOD, "channel": "mp_template", "long_term": True})
    assert found(problems) == {("long_term", "wrong_channel")}
    _, ok = templates.check_template({**GOOD, "long_term": True})
    assert ok == []


def test_an_update_checks_only_what_was_sent_against_the_stored_channel(campaign):
    clean, _ = templates.check_template({**GOOD, "channel": "mp_template"})
    stored = templates.save_template(campaign, clean, "org:1")
    clean, problems = templates.check_template({"long_term": True}, current=stored)
    assert found(problems) == {("long_term", "wrong_channel")}
    clean, problems = templates.check_template({"title": "新标题"}, current=stored)
    assert (clean, problems) == ({"title": "新标题"}, [])


def test_save_creates_then_updates_with_audit(campaign):
    clean, _ = templates.check_template(GOOD)
    created = templates.save_template(campaign, clean, "org:1")
    assert created.template_id == GOOD["template_id"] and created.campaign_id == campaign.id
    assert AuditLog.get(AuditLog.action == "template.create").after["title"] == "截止提醒"
    updated = templates.save_template(campaign, {"title": "新"}, "org:1", created)
    assert updated.title == "新" == MessageTemplate.get_by_id(created.id).title
    audit = AuditLog.get(AuditLog.action == "template.update")
    assert (audit.before, audit.after) == ({"title": "截止提醒"}, {"title": "新"})


def test_one_wechat_template_once_per_campaign(campaign):
    clean, _ = templates.check_template(GOOD)
    first = templates.save_template(campaign, clean, "org:1")
    with pytest.raises(templates.TemplateExists) as caught:
        templates.save_template(campaign, clean, "org:1")
    assert (caught.value.code, caught.value.status) == ("template_exists", 409)
    assert MessageTemplate.select().count() == 1
    assert AuditLog.select().where(AuditLog.action == "template.create").count() == 1
    second = templates.save_template(campaign, {**clean, "template_id": "other"}, "org:1")
    with pytest.raises(templates.TemplateExists):
        templates.save_template(campaign, {"template_id": first.template_id}, "org:1", second)
    assert MessageTemplate.get_by_id(second.id).template_id == "other"
    assert templates.save_template(other_campaign(campaign), clean, "org:1").id != first.id


@pytest.mark.parametrize("use", ["template", "fallback_template"])
def test_a_template_a_notice_uses_cannot_be_deleted(campaign, use):
    main = templates.save_template(campaign, templates.check_template(GOOD)[0], "org:1")
    fallback = templates.save_template(
        campaign, {**templates.check_template(GOOD)[0], "template_id": "mp1",
                   "channel": "mp_template"}, "org:1",
    )  # fmt: skip
    Notice.create(campaign=campaign, title="提醒", template=main, fallback_template=fallback,
                  created_by="org:1")  # fmt: skip
    target = main if use == "template" else fallback
    with pytest.raises(templates.TemplateInUse) as caught:
        templates.delete_template(target, "org:1")
    assert caught.value.code == "template_in_use"
    assert MessageTemplate.get_or_none(MessageTemplate.id == target.id) is not None
    assert not AuditLog.select().where(AuditLog.action == "template.delete").exists()


def test_an_unused_template_is_deleted_with_an_audit_row(campaign):
    template = templates.save_template(campaign, templates.check_template(GOOD)[0], "org:1")
    templates.delete_template(template, "org:1")
    assert MessageTemplate.select().count() == 0
    audit = AuditLog.get(AuditLog.action == "template.delete")
    assert audit.before == {"template_id": GOOD["template_id"]}


def test_a_template_is_found_only_in_its_campaign_by_a_real_row_id(campaign):
    template = templates.save_template(campaign, templates.check_template(GOOD)[0], "org:1")
    assert templates.campaign_template(campaign, template.id).id == template.id
    assert templates.campaign_template(other_campaign(campaign), template.id) is None
    for bad in (str(template.id), True, None, 2**40, template.id + 1):
        assert templates.campaign_template(campaign, bad) is None
