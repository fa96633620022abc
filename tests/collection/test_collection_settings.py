"""Campaign settings through the API: windows, grace, stage, quotas and weights; guarded
(no reopening collection once review started, no stage going back, unless forced with a
reason), audited, and a moved deadline moves the notices timed by it."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from campaign.notices import reminders
from models import AuditLog, Campaign, CampaignOption, Notice, utcnow
from tests.notice_helpers import add_templates, notice_body

pytest_plugins = ("tests.notice_fixtures",)
PATH = "/api/v1/org/campaign/settings"


def iso(moment: datetime.datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"


def fields_of(response) -> set:
    return {(f["field"], f["code"]) for f in response.get_json()["error"]["fields"]}


def test_settings_change_and_are_audited(organizer, open_window):
    closes = open_window.closes_at + datetime.timedelta(days=5)
    review = closes + datetime.timedelta(days=3)
    weights = {"political": 0, "operability": 20, "effectiveness": 20, "innovation": 20,
               "replicability": 20, "completeness": 20}  # fmt: skip
    body = {
        "closes_at": iso(closes),
        "grace_minutes": 30,
        "review_opens_at": iso(review),
        "review_closes_at": iso(review + datetime.timedelta(days=20)),
        "quotas": {"brand": 50, "case": 253},
        "weights": weights,
    }
    response = organizer.patch(PATH, json=body)
    assert response.status_code == 200, response.get_json()
    shown = organizer.get(PATH).get_json()
    assert shown["closes_at"] == iso(closes) and shown["grace_minutes"] == 30
    assert shown["quotas"] == {"brand": 50, "case": 253}
    assert shown["weights"]["operability"] == 20.0
    stored = Campaign.get_by_id(open_window.id)
    assert stored.closes_at == closes.replace(microsecond=0)
    assert CampaignOption.get(CampaignOption.code == "political").weight == 0
    log = AuditLog.get(AuditLog.action == "campaign.settings")
    assert log.before["grace_minutes"] == 0 and log.after["grace_minutes"] == 30
    assert log.actor == f"account:{organizer.account.id}"


def test_every_problem_is_listed_and_nothing_changes(organizer, open_window):
    body = {
        "closes_at": "tomorrow",
        "opens_at": iso(open_window.closes_at + datetime.timedelta(days=1)),
        "grace_minutes": -1,
        "stage": "party",
        "quotas": {"brand": "many"},
        "weights": {"political": 50},
        "colour": "red",
    }
    response = organizer.patch(PATH, json=body)
    assert response.status_code == 422
    assert fields_of(response) == {
        ("closes_at", "invalid_datetime"),
        ("closes_at", "out_of_order"),
        ("grace_minutes", "out_of_range"),
        ("stage", "invalid_choice"),
        ("quotas.brand", "out_of_range"),
        ("weights", "weights_total"),
        ("colour", "unknown_field"),
    }
    assert Campaign.get_by_id(open_window.id).opens_at == open_window.opens_at
    assert not AuditLog.select().where(AuditLog.action == "campaign.settings").exists()


def test_collection_does_not_reopen_once_review_started_unless_forced(organizer, open_window):
    past = utcnow() - datetime.timedelta(days=1)
    Campaign.update(closes_at=past, opens_at=past - datetime.timedelta(days=30)).execute()
    assert organizer.patch(PATH, json={"stage": "review"}).status_code == 200
    later = iso(utcnow() + datetime.timedelta(days=7))
    refused = organizer.patch(PATH, json={"closes_at": later, "stage": "collection"})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "stage_backwards"
    forced_without_reason = organizer.patch(
        PATH, json={"closes_at": later, "stage": "collection", "force": True}
    )
    assert forced_without_reason.status_code == 422
    assert fields_of(forced_without_reason) == {("reason", "reason_required")}
    forced = organizer.patch(
        PATH,
        json={"closes_at": later, "stage": "collection", "force": True, "reason": "省委要求延期"},
    )
    assert forced.status_code == 200
    log = (
        AuditLog.select()
        .where(AuditLog.action == "campaign.settings")
        .order_by(AuditLog.id.desc())
        .get()
    )
    assert log.after["force_reason"] == "省委要求延期"


def test_an_open_review_window_guards_the_deadline(organizer, open_window):
    Campaign.update(
        closes_at=utcnow() - datetime.timedelta(days=2),
        review_opens_at=utcnow() - datetime.timedelta(days=1),
    ).execute()
    later = iso(utcnow() + datetime.timedelta(days=3))
    refused = organizer.patch(PATH, json={"closes_at": later, "review_opens_at": later})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "review_started"


def test_moving_the_deadline_moves_composed_countdown_notices(
    organizer, open_window, wechat, settings
):
    wxa, _ = add_templates(open_window, wechat, settings)
    created = organizer.post("/api/v1/org/notices", json=notice_body(wxa)).get_json()
    timed = {"before_deadline": {"days": 7, "time": "09:00"}}
    sent = organizer.post(f"/api/v1/org/notices/{created['id']}/send", json=timed)
    assert sent.status_code == 202, sent.get_json()
    before = Notice.get_by_id(created["id"])
    old_deadline_value = before.values["time2"]
    moved_by = datetime.timedelta(days=10)
    response = organizer.patch(PATH, json={"closes_at": iso(open_window.closes_at + moved_by)})
    assert response.status_code == 200
    after = Notice.get_by_id(created["id"])
    assert after.send_at == before.send_at + moved_by
    assert after.values["time2"] != old_deadline_value
    assert after.values["thing3"] == before.values["thing3"]  # what the organizer typed
    log = AuditLog.select().where(AuditLog.action == "campaign.settings").get()
    assert log.after["notices_moved"] == 1


def test_countdown_reminders_start_over_for_a_new_deadline(
    organizer, open_window, wechat, settings
):
    wxa, _ = add_templates(open_window, wechat, settings, purpose="deadline")
    old = Notice.create(
        campaign=open_window, title="还剩7天", template=wxa, auto_key="deadline:T-7",
        state="done", created_by=reminders.ACTOR,
    )  # fmt: skip
    new_closes = open_window.closes_at + datetime.timedelta(days=14)
    assert organizer.patch(PATH, json={"closes_at": iso(new_closes)}).status_code == 200
    assert Notice.get_by_id(old.id).auto_key.startswith("deadline:T-7@")
    campaign = Campaign.get_by_id(open_window.id)
    # a minute after the T-7 reminder's own moment (its Beijing clock time), whatever the
    # time of day the test runs at
    zone = ZoneInfo(campaign.timezone)
    closes_day = new_closes.replace(tzinfo=datetime.UTC).astimezone(zone).date()
    clock = reminders.reminder_settings(campaign)["deadline"]["at"]
    moment = reminders._at(closes_day - datetime.timedelta(days=7), clock, zone)
    due_at = moment.astimezone(datetime.UTC).replace(tzinfo=None) + datetime.timedelta(minutes=1)
    keys = [r["auto_key"] for r in reminders.due_reminders(campaign, due_at)]
    assert "deadline:T-7" in keys
    assert not Notice.select().where(Notice.auto_key == "deadline:T-7").exists()


@pytest.mark.parametrize("body", [[], "x", None])
def test_a_body_that_is_not_an_object_is_400(organizer, open_window, body):
    assert organizer.patch(PATH, json=body).status_code == 400


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59", "1999-01-01"]
)
def test_moments_far_away_are_refused_not_overflowed(organizer, open_window, moment):
    response = organizer.patch(PATH, json={"closes_at": moment})
    assert response.status_code == 422
    assert ("closes_at", "invalid_datetime") in fields_of(response)
