"""Automatic reminders: due at the right local times, created once, skipped when they cannot
reach anyone, configurable per campaign, and sent like any notice."""

import datetime

import pytest

from campaign.notices.reminders import create_due, due_reminders
from models import (
    Account,
    Assignment,
    Campaign,
    Department,
    DepartmentMember,
    Entry,
    MessageTemplate,
    Notice,
    Unit,
    WechatUser,
    utcnow,
)
from tasks.reminders import create_due_reminders
from tests.notice_helpers import add_recipients, add_templates, sends_by_openid

pytest_plugins = ("tests.notice_fixtures",)  # organizer, fast_outbox

UTC = datetime.UTC


def beijing(*parts) -> datetime.datetime:
    """A Beijing wall-clock time as the naive UTC the database stores."""
    local = datetime.datetime(*parts, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
    return local.astimezone(UTC).replace(tzinfo=None)


@pytest.fixture
def campaign_2030(campaign):
    Campaign.update(
        opens_at=beijing(2030, 4, 1), closes_at=beijing(2030, 10, 31, 23, 59, 59)
    ).where(Campaign.id == campaign.id).execute()
    return Campaign.get_by_id(campaign.id)


def keys(campaign, now) -> list[str]:
    return [reminder["auto_key"] for reminder in due_reminders(campaign, now)]


def test_the_deadline_countdown_is_due_at_nine_local_time(campaign_2030):
    deadline = [k for k in keys(campaign_2030, beijing(2030, 10, 1, 8, 59)) if "deadline" in k]
    assert deadline == []
    assert "deadline:T-30" in keys(campaign_2030, beijing(2030, 10, 1, 9, 0))
    assert "deadline:T-30" in keys(campaign_2030, beijing(2030, 10, 20, 12, 0))
    assert "deadline:T-7" in keys(campaign_2030, beijing(2030, 10, 24, 9, 0))
    assert "deadline:T-1" in keys(campaign_2030, beijing(2030, 10, 30, 23, 0))
    assert not [k for k in keys(campaign_2030, beijing(2030, 11, 1, 9, 0)) if "deadline" in k]


def test_cadence_reminders_fall_on_their_days(campaign_2030):
    # opened 2030-04-01: endorsement every 3 days, mail-in every 7
    on_day = keys(campaign_2030, beijing(2030, 4, 4, 10, 0))
    assert "endorsement:2030-04-04" in on_day and "mailin:2030-04-04" not in on_day
    assert not [k for k in keys(campaign_2030, beijing(2030, 4, 8, 10, 0)) if "mailin" in k]
    assert "mailin:2030-11-04" in keys(campaign_2030, beijing(2030, 11, 4, 10, 0))
    assert not [k for k in keys(campaign_2030, beijing(2030, 12, 3, 10, 0)) if "endorse" in k]
    assert not [k for k in keys(campaign_2030, beijing(2030, 4, 5, 10, 0)) if "endorse" in k]
    assert not [k for k in keys(campaign_2030, beijing(2030, 4, 4, 8, 0)) if "endorse" in k]
    assert not [k for k in keys(campaign_2030, beijing(2030, 4, 4, 10, 0)) if "review" in k]
    Campaign.update(
        review_opens_at=beijing(2030, 11, 1), review_closes_at=beijing(2030, 11, 30)
    ).execute()
    campaign = Campaign.get_by_id(campaign_2030.id)
    assert "review:2030-11-03" in keys(campaign, beijing(2030, 11, 3, 9, 30))


def test_a_due_reminder_is_created_once_with_its_values(campaign_2030, wechat, settings):
    add_templates(campaign_2030, wechat, settings, purpose="deadline")
    add_recipients(campaign_2030, wechat, settings, 3)
    Campaign.update(
        settings={"reminders": {"deadline": {"values": {"thing3": "请在截止前提交"}}}}
    ).execute()
    campaign = Campaign.get_by_id(campaign_2030.id)
    now = beijing(2030, 10, 24, 9, 5)
    (notice_id,) = create_due(campaign, now)
    assert create_due(campaign, now) == []
    notice = Notice.get_by_id(notice_id)
    assert (notice.auto_key, notice.state, notice.title) == (
        "deadline:T-7",
        "scheduled",
        "征集截止提醒（还剩7天）",
    )
    assert notice.values["thing3"] == "请在截止前提交"
    assert notice.values["time2"] == "2030年10月31日 23:59"
    assert notice.fallback_template.channel == "mp_template"
    assert notice.audience == {"group": "units", "status": ["draft_only", "no_entry", "no_unit"]}


def test_reminders_without_a_template_or_anyone_to_reach_are_skipped(
    campaign_2030, wechat, settings
):
    now = beijing(2030, 10, 24, 9, 5)
    add_recipients(campaign_2030, wechat, settings, 2, grant=False)
    assert create_due(campaign_2030, now) == []  # no template with purpose "deadline"
    add_templates(campaign_2030, wechat, settings, purpose="deadline")
    Unit.delete().execute()
    assert create_due(campaign_2030, now) == []  # nobody in the audience
    assert Notice.select().count() == 0


def test_unfillable_values_skip_a_reminder_instead_of_sending_it_half_empty(
    campaign_2030, wechat, settings
):
    add_templates(campaign_2030, wechat, settings, purpose="deadline")  # thing3 has no value
    add_recipients(campaign_2030, wechat, settings, 2)
    assert create_due(campaign_2030, beijing(2030, 10, 24, 9, 5)) == []


def test_endorsement_review_and_mailin_reach_their_people(campaign_2030, wechat, settings):
    for purpose in ("endorsement", "review", "mailin"):
        MessageTemplate.create(
            campaign=campaign_2030,
            purpose=purpose,
            channel="wxa_subscribe",
            template_id=f"tpl-{purpose}",
            title=purpose,
            fields={"thing1": {"source": "campaign_title"}},
        )
    now = beijing(2030, 11, 3, 9, 30)  # an endorsement and a review day, not a mail-in day
    assert create_due(campaign_2030, now) == []  # nobody is waiting for anything yet
    department = Department.create(
        campaign=campaign_2030, name="省国资委", route="industry_dept", invite_code="gzw"
    )
    member = WechatUser.create(app="wxa", openid="o-member")
    DepartmentMember.create(department=department, user=member)
    owner = WechatUser.create(app="wxa", openid="o-owner")
    unit = Unit.create(campaign=campaign_2030, owner=owner, name="某国企党委")
    entry = Entry.create(
        campaign=campaign_2030,
        unit=unit,
        owner=owner,
        route="industry_dept",
        department=department,
        status="submitted",
        content_check="pass",
    )
    expert_user = WechatUser.create(app="wxa", openid="o-expert")
    expert = Account.create(
        username="e1",
        password_hash="x",
        role="expert",
        display_name="专家",
        campaign=campaign_2030,
        wechat_user=expert_user,
    )
    Assignment.create(entry=entry, expert=expert, assigned_by="test")
    created = create_due(campaign_2030, now)  # no review window yet: no review reminder
    assert [Notice.get_by_id(n).auto_key for n in created] == ["endorsement:2030-11-03"]
    Campaign.update(
        review_opens_at=beijing(2030, 11, 4), review_closes_at=beijing(2030, 11, 30)
    ).execute()
    review_day = beijing(2030, 11, 5, 9, 30)  # review started: endorsement reminders end
    created = create_due(Campaign.get_by_id(campaign_2030.id), review_day)
    assert [Notice.get_by_id(n).auto_key for n in created] == ["review:2030-11-05"]
    Entry.update(status="awarded").execute()
    mailin_day = beijing(2030, 11, 4, 9, 30)
    assert [Notice.get_by_id(n).auto_key for n in create_due(campaign_2030, mailin_day)] == [
        "mailin:2030-11-04"
    ]


def test_reminder_settings_are_shown_and_changed(organizer):
    shown = organizer.get("/api/v1/org/reminders").get_json()
    assert shown["deadline"]["days_before"] == [30, 7, 1] and shown["mailin"]["enabled"]
    changed = organizer.put(
        "/api/v1/org/reminders",
        json={"deadline": {"days_before": [14, 3], "at": "10:30"}, "mailin": {"enabled": False}},
    )
    assert changed.status_code == 200
    assert changed.get_json()["deadline"]["days_before"] == [14, 3]
    assert organizer.get("/api/v1/org/reminders").get_json()["mailin"]["enabled"] is False
    bad = organizer.put(
        "/api/v1/org/reminders",
        json={"deadline": {"at": "9am", "days_before": [-1]}, "party": {}, "review": {"x": 1}},
    )
    assert bad.status_code == 422
    fields = {(f["field"], f["code"]) for f in bad.get_json()["error"]["fields"]}
    assert fields == {
        ("deadline.at", "invalid_format"),
        ("deadline.days_before", "invalid_format"),
        ("party", "unknown_field"),
        ("review.x", "unknown_field"),
    }


def test_disabled_reminders_are_not_created(campaign_2030, wechat, settings):
    add_templates(campaign_2030, wechat, settings, purpose="deadline")
    add_recipients(campaign_2030, wechat, settings, 1)
    Campaign.update(settings={"reminders": {"deadline": {"enabled": False}}}).execute()
    campaign = Campaign.get_by_id(campaign_2030.id)
    assert create_due(campaign, beijing(2030, 10, 24, 9, 5)) == []


def test_the_periodic_job_creates_and_sends_due_reminders(
    open_window, wechat, settings, run_jobs, fast_outbox
):
    Campaign.update(
        closes_at=utcnow() + datetime.timedelta(days=7, hours=-1),
        settings={"reminders": {"deadline": {"values": {"thing3": "请尽快提交"}}}},
    ).execute()
    add_templates(open_window, wechat, settings, purpose="deadline")
    users = add_recipients(open_window, wechat, settings, 4)
    created = create_due_reminders()
    assert len(created) == 1 and create_due_reminders() == []
    run_jobs()
    notice = Notice.get_by_id(created[0])
    assert notice.state == "done" and notice.auto_key.startswith("deadline:T-")
    assert sends_by_openid(wechat) == {user.openid: 1 for user in users}
