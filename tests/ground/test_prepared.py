"""`models.Prepared`: a hot query's SQL is built once, and every call still gets its own
values, rows of the right shape, and the joined holder."""

import datetime

from campaign.sessions import _LIVE_SESSION, _digest, issue_token, user_for_token
from models import Prepared, WechatUser, utcnow


def test_the_sql_is_built_once_and_each_call_gets_its_own_values(app):
    builds = []

    def by_openid(openid):
        builds.append(openid)
        return WechatUser.select().where(WechatUser.openid == openid).limit(1)

    lookup = Prepared(by_openid, "prepared-sample")
    first = WechatUser.create(app="wxa", openid="o-first")
    second = WechatUser.create(app="wxa", openid="o-second")
    assert lookup.first("o-first").id == first.id
    assert lookup.first("o-second").id == second.id
    assert lookup.first("o-nobody") is None
    assert builds == ["prepared-sample"]  # compiled once, from the sample


def test_a_sample_that_does_not_reach_the_sql_unchanged_builds_every_time(app):
    builds = []

    def by_id(raw):
        builds.append(raw)
        return WechatUser.select().where(WechatUser.id == int(raw)).limit(1)

    lookup = Prepared(by_id, "0")  # the string becomes an int: no slot to fill
    user = WechatUser.create(app="wxa", openid="o-int")
    assert lookup.first(str(user.id)).id == user.id
    assert builds == ["0", str(user.id)]


def test_the_session_query_keeps_its_join_and_its_clock(app):
    user = WechatUser.create(app="wxa", openid="o-session")
    token, _ = issue_token(user)
    assert user_for_token(token).openid == "o-session"
    session = _LIVE_SESSION.first(_LIVE_SESSION._samples[0], utcnow())
    assert session is None  # the sample digest matches nothing
    later = utcnow() + datetime.timedelta(days=365)
    assert _LIVE_SESSION.first(_digest(token), later) is None  # expired by then
