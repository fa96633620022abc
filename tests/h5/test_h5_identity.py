"""One person across the official account, H5 and the mini-program, by unionid: the follow
job asks `cgi-bin/user/info`, links the identities, keeps the first touch, audits it."""

from campaign.attribution import attribution_of
from campaign.channels.codes import scene_for
from models import Attribution, AuditLog, Channel, Department, Entry, WechatUser
from tests.factories import UNIT, ApiCaller
from wechat import calls
from wechat.client import mp_client

UNIONID = "u-same-person"


def department_qr(campaign, code="fz2345abcd"):
    department = Department.create(
        campaign=campaign, name="福州市委组织部", route="org_dept", invite_code="inv-1"
    )
    Channel.create(campaign=campaign, department=department, route="org_dept", code=code)
    return department, calls.create_permanent_qr(mp_client(), scene_for(code))["ticket"]


def mini_program_login(client, wechat, settings, openid="o-wxa"):
    wechat.state.add_user(settings.wxa.appid, openid, unionid=UNIONID)
    code = wechat.state.login_code(settings.wxa.appid, openid)
    token = client.post("/api/v1/auth/wxa-login", json={"code": code}).get_json()["token"]
    return token


def api(client, token):
    return ApiCaller(client, token)


def test_a_follower_gets_a_unionid_and_the_mini_program_inherits_the_department(
    client, wechat, settings, open_window, run_jobs
):
    department, ticket = department_qr(open_window)
    wechat.state.add_user(settings.mp.appid, "o-mp", unionid=UNIONID)
    wechat.actions.scan(settings.mp.appid, "o-mp", ticket=ticket, wait=True)
    run_jobs()
    follower = WechatUser.get((WechatUser.app == "mp") & (WechatUser.openid == "o-mp"))
    assert follower.unionid == UNIONID  # from cgi-bin/user/info, in the follow job
    token = mini_program_login(client, wechat, settings)
    caller = api(client, token)
    assert caller.put("/api/v1/me/unit", json=UNIT).status_code == 201
    created = caller.post("/api/v1/entries", json={"title": "近邻党建"})
    assert created.status_code == 201, created.get_json()
    entry = Entry.get_by_id(created.get_json()["id"])
    assert (entry.route, entry.department_id) == ("org_dept", department.id)
    merges = AuditLog.select().where(AuditLog.action == "identity.merge")
    assert merges.count() == 1
    assert merges.get().after["unionid"] == UNIONID


def test_a_later_scan_does_not_move_the_mini_programs_first_touch(
    client, wechat, settings, open_window, run_jobs
):
    token = mini_program_login(client, wechat, settings)
    caller = api(client, token)
    assert caller.put("/api/v1/me/unit", json=UNIT).status_code == 201
    assert caller.post("/api/v1/entries", json={"title": "x"}).status_code == 201  # online
    department, ticket = department_qr(open_window)
    wechat.state.add_user(settings.mp.appid, "o-mp", unionid=UNIONID)
    wechat.actions.scan(settings.mp.appid, "o-mp", ticket=ticket, wait=True)
    run_jobs()
    follower = WechatUser.get((WechatUser.app == "mp") & (WechatUser.openid == "o-mp"))
    assert follower.unionid == UNIONID
    assert attribution_of(open_window, follower).route == "online"
    rows = Attribution.select()
    assert {(row.route, row.department_id) for row in rows} == {("online", None)}
    merge = AuditLog.get(AuditLog.action == "identity.merge")
    assert merge.object_id == str(follower.id)


def test_linking_moves_a_later_attribution_onto_the_first_and_audits_it(open_window):
    """Both apps attributed before anyone knew they were one person: the earliest wins."""
    import datetime

    from campaign.identity import link_unionid

    department = Department.create(
        campaign=open_window, name="福州市委组织部", route="org_dept", invite_code="inv-1"
    )
    wxa = WechatUser.create(app="wxa", openid="o-wxa", unionid=UNIONID)
    mp = WechatUser.create(app="mp", openid="o-mp")
    first = Attribution.create(campaign=open_window, user=wxa, route="online")
    later = Attribution.create(
        campaign=open_window, user=mp, route="org_dept", department=department,
        created_at=first.created_at + datetime.timedelta(minutes=5),
    )  # fmt: skip
    assert link_unionid(mp, UNIONID, "system:follow") == [wxa.id]
    assert Attribution.get_by_id(later.id).route == "online"
    merge = AuditLog.get(AuditLog.action == "identity.merge")
    assert merge.after["attributions"][0]["from"] == {
        "route": "org_dept",
        "department": department.id,
    }
    assert link_unionid(mp, UNIONID, "system:follow") == [wxa.id]
    assert AuditLog.select().where(AuditLog.action == "identity.merge").count() == 1


def test_an_h5_user_sees_entries_written_in_the_mini_program(
    client, phone, wechat, settings, open_window
):
    token = mini_program_login(client, wechat, settings)
    caller = api(client, token)
    caller.put("/api/v1/me/unit", json=UNIT)
    entry = caller.post("/api/v1/entries", json={"title": "小程序里写的案例"}).get_json()
    wechat.state.add_user(settings.mp.appid, "o-h5", unionid=UNIONID)
    phone.sign_in("o-h5")
    assert "小程序里写的案例" in phone.get("/h5/progress").get_data(as_text=True)
    assert phone.get(f"/h5/entries/{entry['id']}").status_code == 200


def test_user_info_failing_leaves_the_follow_done_and_the_next_follow_links(
    client, wechat, settings, open_window, run_jobs
):
    department, ticket = department_qr(open_window)
    wechat.state.add_user(settings.mp.appid, "o-mp", unionid=UNIONID)
    wechat.state.add_fault("/cgi-bin/user/info", errcode=-1)
    wechat.actions.scan(settings.mp.appid, "o-mp", ticket=ticket, wait=True)
    assert run_jobs() >= 1
    follower = WechatUser.get((WechatUser.app == "mp") & (WechatUser.openid == "o-mp"))
    assert follower.follower and follower.unionid is None  # followed, attributed, no unionid
    assert Attribution.get(Attribution.user == follower).department_id == department.id
    wechat.actions.scan(settings.mp.appid, "o-mp", ticket=ticket, wait=True)  # SCAN again
    run_jobs()
    assert WechatUser.get_by_id(follower.id).unionid == UNIONID
