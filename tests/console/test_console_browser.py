"""The console in a real browser: Debian's Chromium driven by Playwright, against the live
app and the WeChat sandbox. Each flow also asserts that no request left the service and
that the page raised no CSP or script error."""

import os
import re

import pytest

from models import Account, ConsoleLoginCode, Entry, Notice
from tests.console.browser import chromium_major, missing_reason, unlabelled
from tests.notice_helpers import add_recipients, add_templates

pytest_plugins = ("tests.notice_fixtures",)  # fast_outbox
pytestmark = pytest.mark.browser

if missing_reason() and os.environ.get("REQUIRE_BROWSER") != "1":
    pytest.skip(missing_reason(), allow_module_level=True)  # one line, saying how to enable


def expect_clean(page):
    assert page.traffic.foreign() == [], "requests left the service"
    assert page.traffic.csp_violations() == []


def sign_in(page, username: str, password: str = "console-password"):
    page.goto("/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_smoke_playwright_drives_the_system_chromium(chromium, page, live_server):
    """Catches drift between Playwright's driver and Debian's Chromium early."""
    import playwright

    major = chromium_major()
    assert chromium.version.split(".")[0] == major, (
        f"Chromium {chromium.version} (browser) vs {major} (chromium --version), "
        f"playwright {playwright.__version__}"
    )
    page.goto("/console/login")
    assert page.title().startswith("登录")
    assert page.evaluate("typeof htmx") == "object"  # the vendored script ran under the CSP
    assert page.evaluate("htmx.version").startswith("2.")
    expect_clean(page)


def test_organizer_finds_an_entry_opens_evidence_and_sends_a_notice(
    page, world, make_account, wechat, settings, run_jobs, fast_outbox
):
    from playwright.sync_api import expect

    campaign = world["campaign"]
    wxa, _ = add_templates(campaign, wechat, settings)
    add_recipients(campaign, wechat, settings, 3)
    make_account("org1")
    sign_in(page, "org1")
    expect(page.get_by_role("heading", name="征集漏斗")).to_be_visible()
    # locators, not wait_for_function: its polling needs eval, which the CSP forbids
    expect(page.locator("#funnel canvas")).to_have_count(1)
    expect(page.locator("#by-region canvas")).to_have_count(1)
    region = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('by-region')).getOption().series[0].data"
    )
    assert region == [3]  # three submitted entries, all 福州市

    page.get_by_role("link", name="案例", exact=True).click()
    page.get_by_label("标题或摘要包含").fill("社区")
    page.get_by_role("button", name="查询").click()
    results = page.locator("#results")
    expect(results).to_contain_text("党建引领社区治理")
    assert unlabelled(page) == []
    expect(results).not_to_contain_text("红色引擎赋能乡村振兴")
    assert "q=" in page.url  # hx-push-url: the filter survives a reload
    page.get_by_label("标题或摘要包含").fill("红色")
    page.get_by_role("button", name="查询").click()
    expect(results).to_contain_text("红色引擎赋能乡村振兴")
    results.get_by_role("link", name="红色引擎赋能乡村振兴").click()
    photo = page.get_by_role("img", name="活动现场.png")
    expect(photo).to_be_visible()
    expect(photo).to_have_js_property("naturalWidth", 40)

    page.goto("/console/notices/new")
    page.get_by_label("通知标题（仅内部识别）").fill("截止提醒")
    page.get_by_label("消息模板").select_option(str(wxa.id))
    page.get_by_label("温馨提示").fill("请尽快提交案例")
    page.get_by_label("进度（可多选）").select_option("no_entry")
    page.get_by_role("button", name="预览接收人数").click()
    expect(page.locator(".preview-count")).to_have_text("3")
    assert unlabelled(page) == []
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url(re.compile(r"/console/notices/\d+$"))
    page.get_by_role("button", name="发送").click()
    expect(page.locator(".notice-state")).to_have_text(re.compile("准备中|发送中|已定时"))
    run_jobs()
    expect(page.locator(".notice-state")).to_have_text("已完成", timeout=15_000)  # polling
    assert Notice.get().state == "done" and len(wechat.state.sends()) == 3
    expect_clean(page)


def test_department_member_scans_in_endorses_and_returns(page, world, wechat, settings, run_jobs):
    from playwright.sync_api import expect

    page.goto("/console/dept/login")
    expect(page.get_by_role("img", name="登录二维码")).to_be_visible()
    expect(page.locator("#login-status")).to_contain_text("等待扫码")
    code = ConsoleLoginCode.get()
    wechat.actions.scan(settings.mp.appid, "o-member-d", ticket=code.ticket, wait=True)
    run_jobs()
    page.wait_for_url("**/console/dept/", timeout=15_000)  # the page polled and was let in
    expect(page.get_by_role("heading", name="福州市委组织部")).to_be_visible()

    page.get_by_role("link", name="推荐案例", exact=True).click()
    red, community = world["entries"]["red"], world["entries"]["community"]
    red_row, community_row = (
        page.locator(f"#entry-{red.id}"),
        page.locator(f"#entry-{community.id}"),
    )
    assert unlabelled(page) == []
    red_row.get_by_role("button", name="推荐").click()
    expect(red_row.locator(".entry-status")).to_have_text("已推荐")

    community_row.get_by_role("button", name="退回").click()
    expect(page.locator("#flash")).to_contain_text("退回时请填写退回原因")  # the 422's message
    community_row.get_by_label("意见或退回原因").fill("请补充成效数据")
    community_row.get_by_role("button", name="退回").click()
    expect(community_row.locator(".entry-status")).to_have_text("已退回")
    assert Entry.get_by_id(red.id).status == "endorsed"
    assert Entry.get_by_id(community.id).status == "returned"
    expect_clean(page)


HTMX = "/console/static/vendor/htmx-2.0.11/htmx.min.js"


def departments_without_htmx(page):
    """The departments page as a browser shows it before htmx has arrived (here: never),
    the new-account form filled in."""
    page.route(f"**{HTMX}", lambda route: route.abort())
    page.goto("/console/departments")
    page.get_by_label("用户名", exact=True).fill("dept-early")
    page.get_by_label("初始密码（至少 10 位）").fill("early-password-1")
    assert page.evaluate("typeof htmx") == "undefined"


def test_a_control_takes_clicks_only_once_htmx_has_read_the_page(page, world, make_account):
    """A click before htmx has read the page would be lost without a word (a full test run clicked
    执行全部决定 that early on a busy machine) or sent natively; the control takes none, so a
    person's click, and Playwright's, waits for htmx."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    make_account("org1")
    sign_in(page, "org1")
    expect(page.get_by_role("heading", name="征集漏斗")).to_be_visible()
    departments_without_htmx(page)
    sent = len(page.traffic.requests)
    with pytest.raises(PlaywrightTimeout):
        page.get_by_role("button", name="开通账号").click(timeout=1_500)
    assert page.traffic.requests[sent:] == []
    page.unroute(f"**{HTMX}")
    page.add_script_tag(url=HTMX)
    page.get_by_role("button", name="开通账号").click()
    expect(page.locator("#issued")).to_contain_text("开通账号 dept-early")
    expect_clean(page)


def test_a_form_sent_before_htmx_goes_by_post(page, world, make_account):
    """Enter in a field before htmx has read the page sends the form natively: by POST (the
    page refuses it), never by GET with the password in the address."""
    from playwright.sync_api import expect

    make_account("org1")
    sign_in(page, "org1")
    expect(page.get_by_role("heading", name="征集漏斗")).to_be_visible()
    departments_without_htmx(page)
    with page.expect_request(lambda request: request.is_navigation_request()) as sent:
        page.get_by_label("初始密码（至少 10 位）").press("Enter")
    assert sent.value.method == "POST"
    assert "early-password" not in sent.value.url
    assert not Account.select().where(Account.username == "dept-early").exists()


def test_a_form_post_without_the_csrf_token_is_refused(page, world, make_account):
    from playwright.sync_api import expect

    make_account("org1")
    sign_in(page, "org1")
    expect(page.get_by_role("heading", name="征集漏斗")).to_be_visible()
    page.evaluate(
        "document.querySelectorAll('form input[name=csrf_token]').forEach(i => i.remove())"
    )
    page.get_by_role("button", name="退出", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("页面已过期或来源不明"))).to_be_visible()
    page.goto("/console/")
    expect(page.get_by_role("heading", name="征集漏斗")).to_be_visible()  # still signed in
    expect_clean(page)
