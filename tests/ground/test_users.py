"""WeChat identities as plain functions: upsert keeps what WeChat said, phones are masked, and
one person's apps are found through the unionid."""

import datetime

import pytest

from campaign.pii import mask_phone
from campaign.users import same_person, upsert_user
from models import WechatUser, utcnow


def test_a_first_login_creates_the_user(app):
    user = upsert_user("wxa", "o-1", unionid="u-1", session_key="k")
    stored = WechatUser.get_by_id(user.id)
    assert (stored.app, stored.openid, stored.unionid, stored.session_key) == (
        "wxa",
        "o-1",
        "u-1",
        "k",
    )


def test_a_later_login_updates_only_what_was_said(app):
    first = upsert_user("wxa", "o-1", unionid="u-1", nickname="老王")
    WechatUser.update(last_seen_at=utcnow() - datetime.timedelta(days=3)).execute()
    again = upsert_user("wxa", "o-1", unionid=None, nickname="", session_key="k2")
    assert again.id == first.id and WechatUser.select().count() == 1
    stored = WechatUser.get_by_id(first.id)
    assert (stored.unionid, stored.nickname, stored.session_key) == ("u-1", "老王", "k2")
    assert stored.last_seen_at > utcnow() - datetime.timedelta(minutes=1)


def test_the_same_openid_in_the_other_app_is_another_user(app):
    wxa = upsert_user("wxa", "o-1")
    mp = upsert_user("mp", "o-1")
    assert wxa.id != mp.id


@pytest.mark.parametrize(
    "phone, shown",
    [
        ("13800135678", "138****5678"),
        ("0591-87808286", "059****8286"),
        ("1234567", "123****4567"),
        ("123456", "****"),
        ("", None),
        (None, None),
    ],
)
def test_phones_are_masked(phone, shown):
    assert mask_phone(phone) == shown


def test_same_person_follows_the_unionid(app):
    wxa = WechatUser.create(app="wxa", openid="o-wxa", unionid="u-1")
    mp = WechatUser.create(app="mp", openid="o-mp", unionid="u-1")
    WechatUser.create(app="mp", openid="o-stranger", unionid="u-2")
    lonely = WechatUser.create(app="wxa", openid="o-lonely")
    assert same_person(wxa) == sorted([wxa.id, mp.id]) == same_person(mp)
    assert same_person(lonely) == [lonely.id]
