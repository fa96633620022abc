"""The exchange's automatic reminders: the invitation to winners and the day-before reminder,
created once each, and sent through the outbox only to people who gave consent."""

import datetime

from redeem_fixtures import person, session_of, winner

from campaign.notices.reminders import configure, create_due
from campaign.redeem import exchange
from models import Campaign, Delivery, MessageTemplate, Notice, SubscriptionGrant, utcnow
from tasks.notices import start
from tests.notice_helpers import WXA_FIELDS, WXA_KEYS, WXA_TEMPLATE, sends_by_openid

pytest_plugins = ("tests.notice_fixtures",)  # fast_outbox


def beijing(*parts) -> datetime.datetime:
    local = datetime.datetime(*parts, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
    return local.astimezone(datetime.UTC).replace(tzinfo=None)


def exchange_template(campaign) -> MessageTemplate:
    return MessageTemplate.create(
        campaign=campaign,
        purpose="exchange",
        channel="wxa_subscribe",
        template_id=WXA_TEMPLATE,
        title="线下交流通知",
        fields=WXA_FIELDS,
    )


def created_keys(campaign, now) -> list[str]:
    return [Notice.get_by_id(n).auto_key for n in create_due(campaign, now)]


def test_winners_are_invited_once_and_the_seated_reminded_the_day_before(campaign):
    exchange_template(campaign)
    values = {"exchange_invite": {"values": {"thing3": "欢迎报名"}}}
    configure(campaign, {**values, "exchange_eve": {"values": {"thing3": "明日见"}}}, "test")
    campaign = Campaign.get_by_id(campaign.id)
    session = session_of(campaign, starts_at=beijing(2030, 12, 10, 9, 0))
    seated_unit, _ = winner(campaign)
    other_unit, _ = winner(campaign, name="另一获奖单位", openid="o-other")
    winner(campaign, name="未获奖单位", openid="o-loser", award=False)
    assert created_keys(campaign, beijing(2030, 12, 1, 8, 59)) == []  # before 09:00
    invite_day = beijing(2030, 12, 1, 9, 30)
    assert created_keys(campaign, invite_day) == [f"exchange_invite:{session.id}"]
    assert created_keys(campaign, invite_day) == []  # once
    invite = Notice.get(Notice.auto_key == f"exchange_invite:{session.id}")
    owners = sorted((seated_unit.owner_id, other_unit.owner_id))
    assert invite.audience == {"group": "users", "users": owners}
    assert invite.values["thing3"] == "欢迎报名"
    exchange.register(session, seated_unit, person(), "test")
    assert created_keys(campaign, beijing(2030, 12, 9, 14, 59)) == []  # eve: at 15:00
    eve = created_keys(campaign, beijing(2030, 12, 9, 15, 0))
    assert eve == [f"exchange_eve:{session.id}"]
    reminder = Notice.get(Notice.auto_key == eve[0])
    assert reminder.audience["users"] == [seated_unit.owner_id]
    assert created_keys(campaign, beijing(2030, 12, 10, 10, 0)) == []  # it has begun


def test_no_session_no_template_or_no_winner_means_no_exchange_reminder(campaign):
    later = beijing(2030, 12, 1, 9, 30)
    session_of(campaign, starts_at=beijing(2030, 12, 10, 9, 0))
    winner(campaign)
    assert created_keys(campaign, later) == []  # no template of purpose exchange
    exchange_template(campaign)
    configure(campaign, {"exchange_invite": {"enabled": False}}, "test")
    assert created_keys(Campaign.get_by_id(campaign.id), later) == []


def test_the_invitation_goes_through_the_outbox_only_with_consent(
    campaign, wechat, settings, run_jobs, fast_outbox
):
    exchange_template(campaign)
    wechat.state.add_template(settings.wxa.appid, WXA_TEMPLATE, keys=WXA_KEYS)
    invite = {"at": "00:00", "values": {"thing3": "欢迎报名"}}
    configure(campaign, {"exchange_invite": invite}, "test")
    session_of(campaign, starts_at=utcnow() + datetime.timedelta(days=3))
    consenting, _ = winner(campaign, openid="o-yes")
    winner(campaign, name="未授权单位", openid="o-no")
    SubscriptionGrant.create(user=consenting.owner_id, template_id=WXA_TEMPLATE, remaining=1)
    for openid, grant in (("o-yes", True), ("o-no", False)):
        wechat.state.add_user(settings.wxa.appid, openid)
        if grant:
            wechat.state.answer_popup(settings.wxa.appid, openid, {WXA_TEMPLATE: "accept"})
    created = create_due(Campaign.get_by_id(campaign.id), utcnow())
    assert len(created) == 1 and start(created[0])
    run_jobs()
    assert sends_by_openid(wechat) == {"o-yes": 1}
    states = {d.user.openid: d.state for d in Delivery.select()}
    assert states["o-yes"] == "sent" and states["o-no"] != "sent"


def test_a_unit_hears_when_its_waiting_attendee_gets_a_seat(campaign):
    exchange_template(campaign)
    values = {"values": {"thing3": "候补已转正"}}
    configure(campaign, {"exchange_seated": values, "exchange_invite": {"enabled": False}}, "t")
    campaign = Campaign.get_by_id(campaign.id)
    session = session_of(campaign, capacity=1, seats_per_unit=3, starts_at=beijing(2030, 12, 10))
    first_unit, _ = winner(campaign)
    waiting_unit, _ = winner(campaign, name="候补单位", openid="o-waiting")
    seated = exchange.register(session, first_unit, person(1), "t")
    waiting = exchange.register(session, waiting_unit, person(2), "t")
    now = beijing(2030, 12, 1, 10, 0)
    assert created_keys(campaign, now) == []
    exchange.cancel(seated, "t")
    assert created_keys(campaign, now) == [f"exchange_seated:{waiting.id}"]
    assert created_keys(campaign, now) == []  # once
    notice = Notice.get(Notice.auto_key == f"exchange_seated:{waiting.id}")
    assert notice.audience["users"] == [waiting_unit.owner_id]
