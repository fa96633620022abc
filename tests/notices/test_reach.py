"""How a delivery reaches a person, as plain functions: the identity in each app (through the
unionid), a subscribe message spends exactly one grant, the fallback reaches followers, and a
retry spends nothing."""

import pytest

from campaign.notices import reach
from campaign.notices.subscriptions import record_answers
from models import MessageTemplate, Notice, SubscriptionGrant, WechatUser


def template(campaign, template_id, channel):
    return MessageTemplate.create(campaign=campaign, purpose="general", channel=channel,
                                  template_id=template_id, title=template_id)  # fmt: skip


@pytest.fixture
def notices(campaign):
    wxa = template(campaign, "SUB1", reach.WXA_SUBSCRIBE)
    mp = template(campaign, "MP1", reach.MP_TEMPLATE)
    both = Notice.create(campaign=campaign, title="带兜底", template=wxa, fallback_template=mp,
                         created_by="org:1")  # fmt: skip
    alone = Notice.create(campaign=campaign, title="仅订阅", template=wxa, created_by="org:1")
    mp_only = Notice.create(campaign=campaign, title="仅公众号", template=mp, created_by="org:1")
    return {"both": both, "alone": alone, "mp_only": mp_only}


@pytest.fixture
def person(app):
    """One person in both apps (same unionid); following the official account."""
    wxa = WechatUser.create(app="wxa", openid="o-wxa", unionid="u-1")
    mp = WechatUser.create(app="mp", openid="o-mp", unionid="u-1", follower=True)
    return {"wxa": wxa, "mp": mp}


def grants(user) -> int:
    row = SubscriptionGrant.get_or_none(SubscriptionGrant.user == user)
    return row.remaining if row else 0


# --- identity --------------------------------------------------------------------------------


def test_the_identity_in_each_app_follows_the_unionid(person):
    assert reach.identity(person["wxa"].id, "wxa").id == person["wxa"].id
    assert reach.identity(person["wxa"].id, "mp").id == person["mp"].id
    assert reach.identity(person["mp"].id, "wxa").id == person["wxa"].id
    assert reach.identity(person["wxa"].id, "mp", followers_only=True).id == person["mp"].id


def test_no_twin_no_follower_no_user(person):
    lonely = WechatUser.create(app="wxa", openid="o-lonely")
    unfollowed = WechatUser.create(app="mp", openid="o-unfollowed")
    assert reach.identity(lonely.id, "mp") is None
    assert reach.identity(unfollowed.id, "mp").id == unfollowed.id
    assert reach.identity(unfollowed.id, "mp", followers_only=True) is None
    WechatUser.update(follower=False).where(WechatUser.id == person["mp"].id).execute()
    assert reach.identity(person["wxa"].id, "mp", followers_only=True) is None
    assert reach.identity(99999, "wxa") is None


# --- choose_way ------------------------------------------------------------------------------


def test_a_subscribe_message_spends_one_grant_of_the_mini_program_identity(notices, person):
    record_answers(person["wxa"], {"SUB1": "accept"})
    way, why = reach.choose_way(notices["both"], person["mp"].id)  # audience row may be the mp one
    assert why == "" and way.channel == reach.WXA_SUBSCRIBE
    assert (way.user_id, way.openid, way.template.template_id) == (
        person["wxa"].id, "o-wxa", "SUB1")  # fmt: skip
    assert grants(person["wxa"]) == 0


def test_without_a_grant_the_fallback_reaches_a_follower_and_spends_nothing(notices, person):
    way, why = reach.choose_way(notices["both"], person["wxa"].id)
    assert (way.channel, way.user_id, way.openid, why) == (
        reach.MP_TEMPLATE, person["mp"].id, "o-mp", "")  # fmt: skip


def test_no_grant_and_no_fallback_says_why(notices, person):
    assert reach.choose_way(notices["alone"], person["wxa"].id) == (None, "no_grant")
    WechatUser.update(follower=False).where(WechatUser.id == person["mp"].id).execute()
    assert reach.choose_way(notices["both"], person["wxa"].id) == (None, "no_grant")
    assert reach.choose_way(notices["mp_only"], person["wxa"].id) == (None, "not_following")


def test_a_grant_is_spent_at_most_once_for_two_claims(notices, person):
    record_answers(person["wxa"], {"SUB1": "accept"})
    first, _ = reach.choose_way(notices["alone"], person["wxa"].id)
    second, why = reach.choose_way(notices["alone"], person["wxa"].id)
    assert first is not None and second is None and why == "no_grant"


def test_a_batch_chooses_as_one_by_one_and_spends_each_grant_once(notices, person, campaign):
    once = WechatUser.create(app="wxa", openid="o-once")
    record_answers(once, {"SUB1": "accept"})
    twice = WechatUser.create(app="wxa", openid="o-twice")
    record_answers(twice, {"SUB1": "accept"})
    record_answers(twice, {"SUB1": "accept"})
    forever = WechatUser.create(app="wxa", openid="o-forever")
    SubscriptionGrant.create(user=forever, template_id="SUB1", remaining=0, long_term=True)
    nobody = WechatUser.create(app="wxa", openid="o-nobody")
    audience = [once.id, twice.id, forever.id, nobody.id, person["mp"].id]
    first = reach.choose_ways(notices["both"], audience)
    seen = {user: (way.channel, way.openid) if way else why for user, (way, why) in first.items()}
    assert seen == {
        once.id: (reach.WXA_SUBSCRIBE, "o-once"),
        twice.id: (reach.WXA_SUBSCRIBE, "o-twice"),
        forever.id: (reach.WXA_SUBSCRIBE, "o-forever"),
        nobody.id: "no_grant",  # no twin to follow the official account
        person["mp"].id: (reach.MP_TEMPLATE, "o-mp"),  # no grant: the fallback, one by one
    }  # fmt: skip
    assert [grants(user) for user in (once, twice, forever)] == [0, 1, 0]
    again = reach.choose_ways(notices["alone"], [once.id, twice.id, forever.id])
    assert [again[user.id][0] is not None for user in (once, twice, forever)] == [False, True, True]
    assert again[once.id] == (None, "no_grant")
    assert [grants(user) for user in (once, twice, forever)] == [0, 0, 0]


# --- count_reachable -------------------------------------------------------------------------


def test_the_preview_counts_template_fallback_and_unreachable(notices, person):
    granted = WechatUser.create(app="wxa", openid="o-granted")
    record_answers(granted, {"SUB1": "accept"})
    nobody = WechatUser.create(app="wxa", openid="o-nobody")
    ids = [person["wxa"].id, granted.id, nobody.id]
    both = notices["both"]
    assert reach.count_reachable(ids, both.template, both.fallback_template) == {
        "template": 1,
        "fallback": 1,
        "unreachable": 1,
    }
    assert reach.count_reachable(ids, both.template) == {
        "template": 1,
        "fallback": 0,
        "unreachable": 2,
    }
    assert grants(granted) == 1  # a preview spends nothing


def test_someone_reached_by_the_template_is_not_counted_again_by_the_fallback(notices, person):
    record_answers(person["wxa"], {"SUB1": "accept"})
    both = notices["both"]
    counted = reach.count_reachable([person["wxa"].id], both.template, both.fallback_template)
    assert counted == {"template": 1, "fallback": 0, "unreachable": 0}


def test_an_audience_row_of_the_other_app_is_reached_through_its_unionid(notices, person):
    record_answers(person["wxa"], {"SUB1": "accept"})
    lonely_mp = WechatUser.create(app="mp", openid="o-mp-only", follower=True)
    ids = [person["mp"].id, lonely_mp.id]
    assert reach.count_reachable(ids, notices["alone"].template) == {
        "template": 1,
        "fallback": 0,
        "unreachable": 1,
    }


# --- way_again -------------------------------------------------------------------------------


def test_a_retry_takes_the_same_way_without_spending_consent(notices, person):
    record_answers(person["wxa"], {"SUB1": "accept"})
    record_answers(person["wxa"], {"SUB1": "accept"})
    again = reach.way_again(notices["both"], person["mp"].id, reach.WXA_SUBSCRIBE)
    assert (again.channel, again.user_id, again.template.template_id) == (
        reach.WXA_SUBSCRIBE, person["wxa"].id, "SUB1")  # fmt: skip
    assert grants(person["wxa"]) == 2
    fallback = reach.way_again(notices["both"], person["wxa"].id, reach.MP_TEMPLATE)
    assert (fallback.template.template_id, fallback.openid) == ("MP1", "o-mp")


def test_a_retry_finds_nothing_when_the_way_is_gone(notices, person):
    WechatUser.update(follower=False).where(WechatUser.id == person["mp"].id).execute()
    assert reach.way_again(notices["both"], person["wxa"].id, reach.MP_TEMPLATE) is None
    assert reach.way_again(notices["alone"], person["wxa"].id, reach.MP_TEMPLATE) is None
