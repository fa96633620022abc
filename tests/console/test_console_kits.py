"""Codes and kits in the console: a department member downloads their codes and builds
their kit with live progress; the organizer builds every department's kit."""

import io
import re
import zipfile

from models import Department, DepartmentMember, WechatUser
from tests.channel_fixtures import decode_qr
from tests.factories import Organizer


def test_a_member_downloads_codes_and_builds_the_kit(app, client, open_window, wechat, run_jobs):
    from tests.console.conftest import Browser

    org = Organizer(client, open_window)
    detail = org.department("中共厦门市委组织部", region="厦门市")
    run_jobs()  # the channel's codes are drawn
    member = WechatUser.create(app="mp", openid="o-xm")
    DepartmentMember.create(department=Department.get_by_id(detail["id"]), user=member)
    browser = Browser(app.test_client())
    from campaign.sessions import issue_token
    from pages import websession
    from tasks.queue import redis_connection

    token, _ = issue_token(member, lifetime=websession.ABSOLUTE)
    redis_connection().set(websession._idle_key(token), "1", ex=600)
    browser.client.set_cookie("console_session", token, path="/console")

    home = browser.get("/console/dept/").get_data(as_text=True)
    channel = detail["channels"][0]
    link = f"/console/dept/codes/{channel['id']}/link_png"
    assert link in home
    png = browser.get(link)
    assert png.mimetype == "image/png" and decode_qr(png.data) == [channel["link"]]

    requested = browser.post("/console/dept/kits", {"department": detail["id"]}, htmx=True)
    text = requested.get_data(as_text=True)
    assert "生成中" in text and 'hx-trigger="every 2s"' in text
    kit_id = int(re.search(r"/console/dept/kits/(\d+)", text).group(1))
    assert browser.get(f"/console/dept/kits/{kit_id}/file").status_code == 409
    run_jobs()
    reloaded = browser.get("/console/dept/").get_data(as_text=True)  # survives a reload
    assert f"/console/dept/kits/{kit_id}/file" in reloaded
    archive = zipfile.ZipFile(io.BytesIO(browser.get(f"/console/dept/kits/{kit_id}/file").data))
    assert "使用说明.txt" in archive.namelist()

    other = Organizer(client, open_window, username="org-2").department("另一个部门")
    assert (
        browser.post("/console/dept/kits", {"department": other["id"]}, htmx=True).status_code
        == 404
    )
    assert (
        browser.get(f"/console/dept/codes/{other['channels'][0]['id']}/link_png").status_code == 404
    )


def test_the_organizer_builds_every_departments_kit(
    organizer_browser, client, open_window, wechat, run_jobs
):
    org = Organizer(client, open_window, username="org-api")
    org.department("部门甲")
    org.department("部门乙")
    organizer_browser.get("/console/departments")
    requested = organizer_browser.post("/console/kits", htmx=True)
    kit_id = int(re.search(r"/console/kits/(\d+)", requested.get_data(as_text=True)).group(1))
    run_jobs()
    page = organizer_browser.get(f"/console/kits/{kit_id}", headers={"HX-Request": "true"})
    assert "下载全部推广码" in page.get_data(as_text=True)
    archive = organizer_browser.get(f"/console/kits/{kit_id}/file")
    assert archive.mimetype == "application/zip"
    archive.close()
