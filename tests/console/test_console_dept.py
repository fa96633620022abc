"""Department members: signing in by scanning the login QR (through the WeChat sandbox),
their pages, endorse and return with a reason, and what they may not reach."""

import datetime
import re

from campaign import console_login
from models import ConsoleLoginCode, Entry, EntryRevision, StatusChange, utcnow
from tests.channel_fixtures import decode_qr


def ask_for_code(browser) -> ConsoleLoginCode:
    page = browser.get("/console/dept/login")
    assert page.status_code == 200 and "扫码登录" in page.get_data(as_text=True)
    fragment = browser.post("/console/dept/login/code", htmx=True)
    assert fragment.status_code == 200, fragment.get_data(as_text=True)
    code = ConsoleLoginCode.select().order_by(ConsoleLoginCode.id.desc()).get()
    assert f"/console/dept/login/{code.id}/qr.png" in fragment.get_data(as_text=True)
    return code


def scan(wechat, settings, openid: str, code: ConsoleLoginCode, run_jobs):
    record = wechat.actions.scan(settings.mp.appid, openid, ticket=code.ticket, wait=True)
    run_jobs()
    return record


def poll(browser, code):
    return browser.post(f"/console/dept/login/{code.id}/status", htmx=True)


def test_a_member_signs_in_by_scanning_the_login_qr(browser, world, wechat, settings, run_jobs):
    code = ask_for_code(browser)
    requests = [r for r in wechat.state.requests() if r["path"] == "/cgi-bin/qrcode/create"]
    assert requests, "the code comes from WeChat's qrcode/create"
    assert code.scene.startswith("login_") and code.ticket
    qr = browser.get(f"/console/dept/login/{code.id}/qr.png")
    assert qr.status_code == 200 and qr.mimetype == "image/png"
    assert decode_qr(qr.data) == [code.qr_url]  # what a phone reads: WeChat's own url
    waiting = poll(browser, code)
    assert waiting.status_code == 200 and "等待扫码" in waiting.get_data(as_text=True)
    record = scan(wechat, settings, "o-member-d", code, run_jobs)
    assert "已扫码" in record.attempts[0].reply  # the passive reply in WeChat
    signed_in = poll(browser, code)
    assert signed_in.status_code == 204
    assert signed_in.headers["HX-Redirect"] == "/console/dept/"
    home = browser.get("/console/dept/")
    assert home.status_code == 200 and "福州市委组织部" in home.get_data(as_text=True)
    assert "厦门市委组织部" not in home.get_data(as_text=True)
    again = poll(browser, code)  # single use
    assert again.status_code == 200 and "二维码已使用" in again.get_data(as_text=True)


def test_the_code_is_bound_to_the_browser_that_asked(
    app, browser, world, wechat, settings, run_jobs
):
    from tests.console.conftest import Browser

    code = ask_for_code(browser)
    scan(wechat, settings, "o-member-d", code, run_jobs)
    thief = Browser(app.test_client())
    thief.get("/console/dept/login")
    assert poll(thief, code).status_code == 404
    assert thief.get(f"/console/dept/login/{code.id}/qr.png").status_code == 404
    assert poll(browser, code).status_code == 204


def test_a_scan_by_someone_outside_every_department_signs_nobody_in(
    browser, world, wechat, settings, run_jobs
):
    code = ask_for_code(browser)
    scan(wechat, settings, "o-stranger", code, run_jobs)
    response = poll(browser, code)
    assert response.status_code == 200 and "等待扫码" in response.get_data(as_text=True)
    assert browser.get("/console/dept/").status_code == 302


def test_expired_codes_sign_nobody_in(browser, world, wechat, settings, run_jobs):
    code = ask_for_code(browser)
    scan(wechat, settings, "o-member-d", code, run_jobs)
    ConsoleLoginCode.update(expires_at=utcnow() - datetime.timedelta(seconds=1)).execute()
    response = poll(browser, code)
    assert response.status_code == 200 and "二维码已过期" in response.get_data(as_text=True)


def test_login_qr_is_a_temporary_str_scene_code_of_five_minutes(browser, world, wechat):
    import time

    code = ask_for_code(browser)
    qr = wechat.state.ticket(code.ticket)  # WeChat's side of the code
    assert qr.action_name == "QR_STR_SCENE" and qr.scene_str == code.scene
    assert 290 <= qr.expires_at - time.time() <= 300
    assert code.qr_url == qr.url  # the page draws exactly what WeChat would show


def test_scene_parsing():
    assert console_login.scene_of("qrscene_login_abc") == "login_abc"
    assert console_login.scene_of("login_abc") == "login_abc"
    assert console_login.scene_of("c=ABC") is None
    assert console_login.scene_of(None) is None


def signed_in_member(browser, wechat, settings, run_jobs, openid="o-member-d"):
    code = ask_for_code(browser)
    scan(wechat, settings, openid, code, run_jobs)
    assert poll(browser, code).status_code == 204
    browser.get("/console/dept/entries")
    return browser


def test_endorse_one_and_return_another_with_a_reason(browser, world, wechat, settings, run_jobs):
    member = signed_in_member(browser, wechat, settings, run_jobs)
    red, community = world["entries"]["red"], world["entries"]["community"]
    page = member.get("/console/dept/entries").get_data(as_text=True)
    assert "红色引擎赋能乡村振兴" in page and "数字党建平台建设" not in page
    endorsed = member.post(f"/console/dept/entries/{red.id}/endorse", {"comment": ""}, htmx=True)
    assert endorsed.status_code == 200 and "已推荐" in endorsed.get_data(as_text=True)
    assert Entry.get_by_id(red.id).status == "endorsed"
    refused = member.post(
        f"/console/dept/entries/{community.id}/return", {"comment": " "}, htmx=True
    )
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"][0]["message"] == "请填写退回原因"
    returned = member.post(
        f"/console/dept/entries/{community.id}/return", {"comment": "请补充成效数据"}, htmx=True
    )
    assert returned.status_code == 200 and "已退回" in returned.get_data(as_text=True)
    change = StatusChange.get(StatusChange.entry == community.id)
    assert change.note == "请补充成效数据" and change.actor == f"user:{world['member_d'].id}"
    twice = member.post(f"/console/dept/entries/{red.id}/endorse", htmx=True)
    assert twice.status_code == 409


def test_members_never_reach_another_departments_entries(
    browser, world, wechat, settings, run_jobs
):
    member = signed_in_member(browser, wechat, settings, run_jobs)
    digital = world["entries"]["digital"]
    response = member.post(f"/console/dept/entries/{digital.id}/endorse", htmx=True)
    assert response.status_code == 404
    assert Entry.get_by_id(digital.id).status == "submitted"
    assert member.get("/console/entries").status_code == 403  # organizer pages


def test_after_a_resubmission_the_member_sees_what_changed(
    browser, world, wechat, settings, run_jobs
):
    community = world["entries"]["community"]
    EntryRevision.create(
        entry=community,
        data={"title": "党建引领社区治理", "results": "成效一般"},
        saved_at=utcnow() - datetime.timedelta(hours=2),
    )
    StatusChange.create(
        entry=community, from_status="submitted", to_status="returned", actor="user:1",
        at=utcnow() - datetime.timedelta(hours=1),
    )  # fmt: skip
    Entry.update(results="成效显著，群众满意度 98%").where(Entry.id == community.id).execute()
    member = signed_in_member(browser, wechat, settings, run_jobs)
    page = member.get("/console/dept/entries").get_data(as_text=True)
    assert "退回后修改了「成效」" in page
    assert re.search(r"<ins>[^<]*显著", page) and "<del>" in page


def test_members_export_only_their_entries(browser, world, wechat, settings, run_jobs):
    import io

    from openpyxl import load_workbook

    member = signed_in_member(browser, wechat, settings, run_jobs)
    response = member.get("/console/dept/export")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.values)
    titles = {row[1] for row in rows[1:]}
    assert titles == {"红色引擎赋能乡村振兴", "党建引领社区治理"}


def test_the_password_fallback_an_organizer_issues(app, organizer_browser, world):
    from tests.console.conftest import Browser

    organizer_browser.get("/console/departments")
    issued = organizer_browser.post(
        "/console/departments/accounts",
        {"department": world["dept_d"].id, "username": "fz-dept", "password": "fz-password-1"},
        htmx=True,
    )
    assert issued.status_code == 200 and "已为福州市委组织部开通账号" in issued.get_data(
        as_text=True
    )
    taken = organizer_browser.post(
        "/console/departments/accounts",
        {"department": world["dept_d"].id, "username": "fz-dept", "password": "short"},
        htmx=True,
    )
    assert {f["field"] for f in taken.get_json()["error"]["fields"]} == {"username", "password"}
    member = Browser(app.test_client())
    response = member.sign_in("fz-dept", "fz-password-1")
    assert response.location == "/console/dept/"
    page = member.get("/console/dept/entries").get_data(as_text=True)
    assert "红色引擎赋能乡村振兴" in page and "数字党建平台建设" not in page
    red = world["entries"]["red"]
    assert member.post(f"/console/dept/entries/{red.id}/endorse", htmx=True).status_code == 200
    change = StatusChange.get(StatusChange.entry == red.id)
    assert change.actor.startswith("account:")
    assert member.get("/console/").status_code == 403
    assert member.get("/console/entries").status_code == 403
    from campaign.sessions import issue_token
    from models import Account

    token, _ = issue_token(Account.get(Account.username == "fz-dept"))
    api = app.test_client().get("/api/v1/org/entries", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 403  # no organizer API for a department account


def test_login_codes_are_throttled_per_address(browser, world, wechat, monkeypatch):
    from pages.console import auth

    monkeypatch.setattr(auth, "CODES_PER_ADDRESS", 2)
    browser.get("/console/dept/login")
    assert browser.post("/console/dept/login/code", htmx=True).status_code == 200
    assert browser.post("/console/dept/login/code", htmx=True).status_code == 200
    third = browser.post("/console/dept/login/code", htmx=True)
    assert third.status_code == 429 and "过于频繁" in third.get_json()["error"]["message"]
    assert ConsoleLoginCode.select().count() == 2
