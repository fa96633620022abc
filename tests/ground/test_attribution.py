"""First-touch attribution as a plain function: the first touch wins, the online route is the
default, and the same person's other WeChat app inherits it through the unionid."""

from campaign.attribution import ONLINE_ROUTE, attribute, attribution_of
from models import Attribution, Channel, Department, WechatUser


def department_channel(campaign, name: str, code: str, route: str = "org_dept") -> Channel:
    department = Department.create(
        campaign=campaign, name=name, route=route, invite_code=f"inv-{code}"
    )
    return Channel.create(campaign=campaign, department=department, route=route, code=code)


def test_the_first_channel_touch_fixes_route_and_department(campaign):
    first = department_channel(campaign, "甲县委组织部", "first0001")
    second = department_channel(campaign, "乙行业部门", "second001", route="industry_dept")
    user = WechatUser.create(app="mp", openid="o-1")
    made = attribute(campaign, user, first)
    again = attribute(campaign, user, second)
    assert again.id == made.id
    stored = Attribution.get(Attribution.user == user)
    assert (stored.route, stored.department_id, stored.channel_id) == (
        "org_dept",
        first.department_id,
        first.id,
    )
    assert Attribution.select().count() == 1


def test_no_channel_means_the_online_route(campaign):
    user = WechatUser.create(app="wxa", openid="o-1")
    made = attribute(campaign, user, None)
    assert (made.route, made.department_id, made.channel_id) == (ONLINE_ROUTE, None, None)
    channel = department_channel(campaign, "甲", "late00001")
    assert attribute(campaign, user, channel).route == ONLINE_ROUTE  # already frozen


def test_the_other_app_of_the_same_person_inherits_the_attribution(campaign):
    channel = department_channel(campaign, "甲", "chan00001")
    mp_user = WechatUser.create(app="mp", openid="o-mp", unionid="u-1")
    wxa_user = WechatUser.create(app="wxa", openid="o-wxa", unionid="u-1")
    attribute(campaign, mp_user, channel)
    inherited = attribution_of(campaign, wxa_user)
    assert inherited.user_id == wxa_user.id
    assert (inherited.route, inherited.department_id, inherited.channel_id) == (
        "org_dept",
        channel.department_id,
        channel.id,
    )
    assert Attribution.select().count() == 2
    assert attribution_of(campaign, wxa_user).id == inherited.id  # stored, not made twice


def test_a_later_channel_touch_in_the_other_app_does_not_win(campaign):
    first = department_channel(campaign, "甲", "first0001")
    other = department_channel(campaign, "乙", "other0001")
    attribute(campaign, WechatUser.create(app="mp", openid="o-mp", unionid="u-1"), first)
    wxa_user = WechatUser.create(app="wxa", openid="o-wxa", unionid="u-1")
    assert attribute(campaign, wxa_user, other).department_id == first.department_id


def test_no_unionid_or_no_sibling_means_no_attribution(campaign):
    lonely = WechatUser.create(app="wxa", openid="o-lonely")
    assert attribution_of(campaign, lonely) is None
    twin_less = WechatUser.create(app="wxa", openid="o-u", unionid="u-9")
    WechatUser.create(app="mp", openid="o-u-mp", unionid="u-9")  # never touched anything
    assert attribution_of(campaign, twin_less) is None
    assert Attribution.select().count() == 0
