"""Consent to subscribe messages, as plain functions: one send per one-time accept, long-term
grants are never spent, and turning a template off stops every send."""

import pytest

from campaign.notices.subscriptions import consume, is_long_term, record_answers, revoke
from models import MessageTemplate, SubscriptionGrant, WechatUser


@pytest.fixture
def user(app):
    return WechatUser.create(app="wxa", openid="o-1")


def long_term_template(campaign, template_id="LT1"):
    return MessageTemplate.create(
        campaign=campaign,
        purpose="general",
        channel="wxa_subscribe",
        template_id=template_id,
        title="长期",
        long_term=True,
    )


def test_each_accept_adds_one_send_and_a_reject_adds_none(user):
    assert record_answers(user, {"T1": "accept", "T2": "reject"}) == {"T1": 1, "T2": 0}
    assert record_answers(user, {"T1": "accept", "T2": "ban"}) == {"T1": 2, "T2": 0}
    assert SubscriptionGrant.select().where(SubscriptionGrant.user == user).count() == 2


def test_one_accept_is_spent_by_one_send(user):
    record_answers(user, {"T1": "accept"})
    assert consume(user.id, "T1") is True
    assert consume(user.id, "T1") is False
    assert SubscriptionGrant.get(SubscriptionGrant.template_id == "T1").remaining == 0


def test_no_grant_no_send(user):
    assert consume(user.id, "T1") is False
    record_answers(user, {"T1": "reject"})
    assert consume(user.id, "T1") is False
    other = WechatUser.create(app="wxa", openid="o-2")
    record_answers(other, {"T1": "accept"})
    assert consume(user.id, "T1") is False  # someone else's consent is not mine
    assert consume(other.id, "T1") is True


def test_a_long_term_template_is_never_spent(campaign, user):
    long_term_template(campaign)
    assert is_long_term("LT1") and not is_long_term("T1")
    record_answers(user, {"LT1": "accept"})
    grant = SubscriptionGrant.get(SubscriptionGrant.template_id == "LT1")
    assert grant.long_term is True
    assert all(consume(user.id, "LT1") for _ in range(5))
    assert SubscriptionGrant.get_by_id(grant.id).remaining == 1


def test_a_reject_of_a_long_term_template_grants_nothing(campaign, user):
    long_term_template(campaign)
    record_answers(user, {"LT1": "reject"})
    assert SubscriptionGrant.get(SubscriptionGrant.template_id == "LT1").long_term is False
    assert consume(user.id, "LT1") is False


def test_turning_a_template_off_stops_every_send(campaign, user):
    long_term_template(campaign)
    record_answers(user, {"LT1": "accept", "T1": "accept"})
    record_answers(user, {"T1": "accept"})
    revoke(user, "LT1")
    revoke(user, "T1")
    revoke(user, "never-granted")  # nothing to do, no error
    assert consume(user.id, "LT1") is False
    assert consume(user.id, "T1") is False
    assert record_answers(user, {"T1": "accept"}) == {"T1": 1}  # a new accept counts again
