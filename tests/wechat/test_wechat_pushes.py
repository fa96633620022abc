"""The sandbox plays WeChat: signed, encrypted pushes to the live server, as WeChat sends them."""

from campaign.channels.codes import scene_for
from models import Attribution, Channel, Department, SubscriptionGrant, Touch, WechatUser
from wechat import calls
from wechat.client import mp_client


def accepted_once(record) -> bool:
    return record.outcome == "accepted" and len(record.attempts) == 1


def test_url_verification(wechat, settings):
    for appid in (settings.mp.appid, settings.wxa.appid):
        assert wechat.actions.verify(appid)["ok"]


def test_scanning_a_department_qr_attributes_the_user(wechat, settings, campaign, run_jobs):
    department = Department.create(
        campaign=campaign, name="省国资委", route="industry_dept", invite_code="inv-g"
    )
    channel = Channel.create(
        campaign=campaign, department=department, route="industry_dept", code="gz2345abcd"
    )
    ticket = calls.create_permanent_qr(mp_client(), scene_for(channel.code))["ticket"]

    first = wechat.actions.scan(settings.mp.appid, "o-scan", ticket=ticket, wait=True)
    assert accepted_once(first), first.as_dict()
    assert "c=gz2345abcd" in first.attempts[0].reply
    assert first.event["Event"] == "subscribe"

    second = wechat.actions.scan(settings.mp.appid, "o-scan", ticket=ticket, wait=True)
    assert accepted_once(second)
    assert second.event["Event"] == "SCAN"

    run_jobs()
    kinds = sorted(t.kind for t in Touch.select().where(Touch.channel == channel))
    assert kinds == ["mp_scan", "mp_subscribe"]
    user = WechatUser.get((WechatUser.app == "mp") & (WechatUser.openid == "o-scan"))
    assert user.follower
    assert Attribution.get(Attribution.user == user).department_id == department.id


def test_a_later_department_does_not_steal_the_user(wechat, settings, campaign, run_jobs):
    first_dept = Department.create(campaign=campaign, name="A", route="org_dept", invite_code="a")
    second_dept = Department.create(
        campaign=campaign, name="B", route="party_school", invite_code="b"
    )
    Channel.create(campaign=campaign, department=first_dept, route="org_dept", code="aaaa2345bb")
    Channel.create(
        campaign=campaign, department=second_dept, route="party_school", code="bbbb2345cc"
    )
    for code in ("aaaa2345bb", "bbbb2345cc"):
        ticket = calls.create_permanent_qr(mp_client(), scene_for(code))["ticket"]
        assert accepted_once(
            wechat.actions.scan(settings.mp.appid, "o-two", ticket=ticket, wait=True)
        )
        run_jobs()
    attribution = Attribution.get()
    assert (attribution.department_id, attribution.route) == (first_dept.id, "org_dept")
    assert Touch.select().count() == 2


def test_popup_answers_from_the_mini_program_become_grants(wechat, settings, run_jobs):
    for template_id in ("tpl-a", "tpl-b"):
        wechat.state.add_template(settings.wxa.appid, template_id, keys={"thing1": "thing"})
    record = wechat.actions.subscribe_popup(
        settings.wxa.appid, "o-pop", {"tpl-a": "accept", "tpl-b": "reject"}, wait=True
    )
    assert accepted_once(record)
    run_jobs()
    grants = {g.template_id: g.remaining for g in SubscriptionGrant.select()}
    assert grants == {"tpl-a": 1, "tpl-b": 0}
    change = wechat.actions.subscribe_change(settings.wxa.appid, "o-pop", "tpl-a", wait=True)
    assert accepted_once(change)
    run_jobs()
    assert SubscriptionGrant.get(SubscriptionGrant.template_id == "tpl-a").remaining == 0


def test_keyword_text_gets_a_reply_the_sandbox_can_decrypt(wechat, settings):
    record = wechat.actions.text(settings.mp.appid, "o-text", "报名", wait=True)
    assert accepted_once(record)
    assert "报名入口" in record.attempts[0].reply


def test_unsubscribe_is_recorded(wechat, settings, run_jobs):
    wechat.actions.subscribe(settings.mp.appid, "o-bye", wait=True)
    run_jobs()
    assert WechatUser.get(WechatUser.openid == "o-bye").follower
    wechat.actions.unsubscribe(settings.mp.appid, "o-bye", wait=True)
    run_jobs()
    assert not WechatUser.get(WechatUser.openid == "o-bye").follower
