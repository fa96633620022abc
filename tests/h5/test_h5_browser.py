"""One unit's whole H5 journey in Debian's Chromium at 390×844 with WeChat's user agent:
a department's `/q/` link, OAuth through the sandbox, the profile, a failed submit with
every problem, an autosave that survives a reload, an upload, a submit, a return by the
department and the fix, then attribution to the department. With SCREENSHOTS=<folder>
(`make screenshots`) each step is also saved as a PNG for docs/h5.md."""

import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from PIL import Image

from campaign.sessions import issue_token
from models import Attribution, DepartmentMember, Entry, WechatUser
from tests.channel_fixtures import BROWSER_UA
from tests.console.browser import missing_reason
from tests.factories import COMPLETE, UNIT, Organizer, zi

pytestmark = pytest.mark.browser

if missing_reason() and os.environ.get("REQUIRE_BROWSER") != "1":
    pytest.skip(missing_reason(), allow_module_level=True)

FOLDER = os.environ.get("SCREENSHOTS")
HOME = re.compile(r"/h5/home(#wechat_redirect)?$")  # WeChat's fragment survives redirects
OPENID = "o-phone-unit"


def shot(page, name: str) -> None:
    if FOLDER:
        Path(FOLDER).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{FOLDER}/{name}.png", full_page=False)


def expect_clean(page):
    """Nothing but the service and WeChat's OAuth hops (the sandbox, the public address)."""
    foreign = [u for u in page.traffic.foreign() if urlparse(u).netloc not in page.wechat_hosts]
    assert foreign == [], "requests left the service"
    assert page.traffic.csp_violations() == []
    # the 422 of the failed submit and the browser's own /favicon.ico are logged as loads
    # that failed; anything else (a script error) is not allowed
    assert [e for e in page.traffic.errors if not e.startswith("Failed to load resource")] == []


def photo_file(tmp_path) -> Path:
    path = tmp_path / "现场照片.jpg"
    Image.new("RGB", (640, 480), (200, 30, 30)).save(path, "JPEG")
    return path


def sign_in_from_the_poster(page, code: str):
    page.set_extra_http_headers({"X-Sandbox-Openid": OPENID})  # who holds the phone
    page.goto(f"/q/{code}")
    page.wait_for_url(HOME)


def fill_entry(page, fields: dict):
    for name in ("title", "abstract", "background", "approach", "results", "significance"):
        page.locator(f"#{name}").fill(fields[name])
    page.select_option("#track", fields["track"])
    page.select_option("#domain", fields["domain"])
    for theme in fields["themes"]:
        page.locator(f'input[name=themes][value="{theme}"]').check()


def test_a_unit_from_the_poster_to_a_submitted_entry(
    phone_tabs, phone_page, client, open_window, run_jobs, tmp_path
):
    from playwright.sync_api import expect

    page = phone_page
    organizer = Organizer(client, open_window)
    department = organizer.department("福州市委组织部")
    code = department["channels"][0]["code"]

    elsewhere = phone_tabs(user_agent=BROWSER_UA)  # the same poster, another phone browser
    elsewhere.goto(f"/q/{code}")
    expect(elsewhere.get_by_role("heading", name="请在微信中打开")).to_be_visible()
    expect(elsewhere.get_by_alt_text("本页二维码")).to_be_visible()
    elsewhere.locator("#open-in-wechat").scroll_into_view_if_needed()
    shot(elsewhere, "00-outside-wechat")

    page.goto(f"/h5/?c={code}")
    shot(page, "01-landing")
    sign_in_from_the_poster(page, code)
    shot(page, "02-home")

    page.get_by_role("link", name="登记单位信息").click()
    page.get_by_label("单位名称").fill(UNIT["name"])
    page.select_option("#region", UNIT["region"])
    page.select_option("#domain", UNIT["domain"])
    page.select_option("#org_level", UNIT["org_level"])
    page.get_by_label("联系人").fill(UNIT["contact_name"])
    page.get_by_label("联系电话").fill(UNIT["contact_phone"])
    page.get_by_role("button", name="保存单位信息").click()
    expect(page.locator("#phone-saved")).to_contain_text("138****8000")
    shot(page, "03-unit")

    page.goto("/h5/entries")
    page.get_by_label("新案例标题").fill(COMPLETE["title"])
    page.get_by_role("button", name="新建案例").click()
    page.wait_for_url(re.compile(r"/h5/entries/\d+$"))
    entry_id = int(page.url.rsplit("/", 1)[1])

    page.locator("#abstract").fill(zi(20))
    page.get_by_role("button", name="提交案例").click()
    problems = page.locator("#problems li")
    expect(problems.first).to_be_visible()
    listed = problems.all_inner_texts()
    for label in (
        "所属领域",
        "主题",
        "摘要",
        "背景",
        "做法",
        "成效",
        "意义",
        "佐证材料",
    ):
        assert any(text.startswith(label) for text in listed), (label, listed)
    for field in ("domain", "themes", "abstract", "background", "attachments"):
        expect(page.locator(f"#problem-{field}")).to_be_visible()
    shot(page, "04-problems")

    page.goto(f"/h5/entries/{entry_id}")
    page.locator("#background").fill(COMPLETE["background"])
    expect(page.locator("#save-state")).to_have_text("已保存")
    page.reload()
    expect(page.locator("#background")).to_have_value(COMPLETE["background"])
    expect(page.locator('[data-counter-for="background"]')).to_have_text("800 字")
    shot(page, "05-autosaved")

    page.set_input_files("#file", str(photo_file(tmp_path)))
    page.locator("#upload-form").get_by_role("button", name="上传").click()
    page.wait_for_url(re.compile(r"done=uploaded"))
    expect(page.locator("#evidence ul.files")).to_contain_text("现场照片")
    shot(page, "06-evidence")

    fill_entry(page, COMPLETE)
    page.get_by_label("同意显示").check()
    page.get_by_role("button", name="提交案例").click()
    expect(page.get_by_text("案例已提交")).to_be_visible()
    shot(page, "07-submitted")

    run_jobs()
    organizer.post(f"/api/v1/org/entries/{entry_id}/content-decision", json={"decision": "release"})
    member = WechatUser.create(app="mp", openid="o-dept-member")
    DepartmentMember.create(department=department["id"], user=member)
    token, _ = issue_token(member)
    returned = client.post(
        f"/api/v1/dept/entries/{entry_id}/return",
        json={"comment": "成效部分请补充具体数据"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert returned.status_code == 200, returned.get_json()

    page.goto("/h5/progress")
    expect(page.get_by_text("成效部分请补充具体数据")).to_be_visible()
    shot(page, "08-returned")
    page.goto(f"/h5/entries/{entry_id}")
    page.locator("#results").fill(COMPLETE["results"] + "成效数据：服务群众一万二千人次。")
    page.get_by_role("button", name="提交案例").click()
    expect(page.get_by_text("案例已提交")).to_be_visible()
    page.goto("/h5/progress")
    shot(page, "09-progress")
    expect_clean(page)

    entry = Entry.get_by_id(entry_id)
    assert entry.status == "submitted"
    assert (entry.route, entry.department_id) == (department["route"], department["id"])
    user = WechatUser.get((WechatUser.app == "mp") & (WechatUser.openid == OPENID))
    assert Attribution.get(Attribution.user == user).department_id == department["id"]


TAP_TARGETS = """() => [...document.querySelectorAll(
    'button, select, input[type=text], input[type=tel], input[type=file], textarea, nav a, .check')]
  .filter(e => e.getBoundingClientRect().height < 44)
  .map(e => e.name || e.id || e.outerHTML.slice(0, 60))"""
MIXED = "Hello 世界！２０２１年😀👍🏽 党建ＡＢＣ test-case 3.14\u200b与「乡村振兴」——共同富裕…"


def test_the_live_counter_equals_the_server_count(phone_page, client, open_window):
    from playwright.sync_api import expect

    page = phone_page
    page.set_extra_http_headers({"X-Sandbox-Openid": "o-counter"})
    page.goto("/wechat/oauth/start")
    page.wait_for_url(HOME)
    page.goto("/h5/unit")
    for name, value in UNIT.items():
        if name in ("region", "domain", "org_level"):
            page.select_option(f"#{name}", value)
        else:
            page.locator(f"#{name}").fill(value)
    page.get_by_role("button", name="保存单位信息").click()
    page.goto("/h5/entries")
    page.get_by_role("button", name="新建案例").click()
    page.wait_for_url(re.compile(r"/h5/entries/\d+$"))
    small = page.evaluate(TAP_TARGETS)
    assert small == [], "tap targets under 44 px"
    for text in ("2021年4月，福建省开展活动。", MIXED):
        server = client.post("/api/v1/text/count", json={"text": text}).get_json()["count"]
        field = page.locator("#background")
        field.fill("")
        field.press_sequentially(text)
        expect(page.locator('[data-counter-for="background"]')).to_have_text(f"{server} 字")
        expect(page.locator("#body-count")).to_have_text(str(server))
    assert (
        client.post("/api/v1/text/count", json={"text": "2021年4月，福建省开展活动。"}).get_json()[
            "count"
        ]
        == 13
    )
    expect_clean(page)


def test_without_javascript_a_unit_registers_and_saves_a_draft(phone_tabs, open_window):
    """Reading and plain forms need no script: the autosave state never shows."""
    from playwright.sync_api import expect

    page = phone_tabs(javascript=False)
    page.set_extra_http_headers({"X-Sandbox-Openid": "o-nojs"})
    page.goto("/wechat/oauth/start")
    page.wait_for_url(HOME)
    page.goto("/h5/unit")
    for name, value in UNIT.items():
        if name in ("region", "domain", "org_level"):
            page.select_option(f"#{name}", value)
        else:
            page.locator(f"#{name}").fill(value)
    page.get_by_role("button", name="保存单位信息").click()
    expect(page.get_by_text("单位信息已保存")).to_be_visible()
    page.goto("/h5/entries")
    page.get_by_label("新案例标题").fill("无脚本也能写的案例")
    page.get_by_role("button", name="新建案例").click()
    page.locator("#abstract").fill(zi(250))
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_text("已保存草稿")).to_be_visible()
    expect(page.locator("#save-state")).to_be_hidden()
    assert Entry.get().abstract == zi(250)


def test_edits_made_offline_survive_a_reload_and_are_saved_when_back(phone_page, open_window):
    """The connection drops while typing: 未保存 shows, the edit waits in localStorage, and
    a reload with the connection back restores it and saves it."""
    from playwright.sync_api import expect

    page = phone_page
    page.set_extra_http_headers({"X-Sandbox-Openid": "o-offline"})
    page.goto("/wechat/oauth/start")
    page.wait_for_url(HOME)
    page.goto("/h5/unit")
    for name, value in UNIT.items():
        if name in ("region", "domain", "org_level"):
            page.select_option(f"#{name}", value)
        else:
            page.locator(f"#{name}").fill(value)
    page.get_by_role("button", name="保存单位信息").click()
    page.goto("/h5/entries")
    page.get_by_role("button", name="新建案例").click()
    page.wait_for_url(re.compile(r"/h5/entries/\d+$"))
    page.route("**/autosave", lambda route: route.abort("internetdisconnected"))
    page.locator("#approach").fill("断网时写下的做法。")
    expect(page.locator("#save-state")).to_contain_text("未保存")
    assert Entry.get().approach == ""
    page.unroute("**/autosave")
    page.reload()
    expect(page.locator("#approach")).to_have_value("断网时写下的做法。")
    expect(page.locator("#save-state")).to_have_text("已保存")
    assert Entry.get().approach == "断网时写下的做法。"
    expect_clean(page)
