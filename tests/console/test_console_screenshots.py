"""`make screenshots`: the console's main pages at 1366×768, as PNGs for docs/console.md.

Runs only with SCREENSHOTS=<folder> (the Makefile sets docs/console); the pages are filled
with the same small world as the other console tests, plus a sent notice.
"""

import os
import re
from pathlib import Path

import pytest

from campaign.redeem import exchange
from models import ConsoleLoginCode, Notice
from tests.console.conftest import put_in_review
from tests.notice_helpers import add_recipients, add_templates

pytest_plugins = ("tests.notice_fixtures",)  # fast_outbox
pytestmark = pytest.mark.browser

FOLDER = os.environ.get("SCREENSHOTS")
ORGANIZER_PAGES = (
    ("01-login", "/console/login"),
    ("03-dashboard", "/console/"),
    ("04-entries", "/console/entries?q=党建"),
    ("05-entry", "/console/entries/{red}"),
    ("06-units", "/console/units"),
    ("07-departments", "/console/departments"),
    ("08-notice-new", "/console/notices/new"),
    ("09-notice", "/console/notices/{notice}"),
    ("10-notices", "/console/notices"),
    ("11-audit", "/console/audit"),
    ("12-accounts", "/console/accounts"),
    ("13-jobs", "/console/jobs"),
    ("16-settings", "/console/settings"),
    ("20-mailroom", "/console/mailroom"),
    ("21-mailroom-item", "/console/mailroom/{mailin}"),
    ("22-exchange", "/console/exchange"),
    ("23-exchange-session", "/console/exchange/{session}"),
    ("30-publications", "/console/publications"),
    ("31-publication", "/console/publications/{publication}"),
    ("32-objections", "/console/objections"),
    ("33-casebook", "/console/casebook"),
)
EXPERT_PAGES = ("17-expert-home", "18-expert-entry")  # taken after the organizer's, below


@pytest.mark.skipif(not FOLDER, reason="set SCREENSHOTS=<folder> (or run `make screenshots`)")
def test_screenshots(
    chromium, page, live_server, world, make_account, wechat, settings, run_jobs, fast_outbox
):
    from playwright.sync_api import expect

    folder = Path(FOLDER)
    folder.mkdir(parents=True, exist_ok=True)
    campaign = world["campaign"]
    wxa, _ = add_templates(campaign, wechat, settings)
    add_recipients(campaign, wechat, settings, 12)
    make_account("admin1", "admin")
    make_account("org1", "organizer")
    make_account("expert1", "expert")

    page.goto("/console/login")
    page.screenshot(path=folder / "01-login.png")
    page.get_by_label("用户名").fill("admin1")
    page.get_by_label("密码").fill("console-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="征集漏斗")).to_be_visible()
    page.goto("/console/notices/new")
    page.get_by_label("通知标题（仅内部识别）").fill("截止前一周提醒")
    page.get_by_label("消息模板").select_option(str(wxa.id))
    page.get_by_label("温馨提示").fill("请尽快提交案例")
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url(re.compile(r"/console/notices/\d+$"))
    page.get_by_role("button", name="发送").click()
    expect(page.locator(".notice-state")).to_have_text(re.compile("准备中|发送中"))
    run_jobs()
    expect(page.locator(".notice-state")).to_have_text("已完成", timeout=15_000)
    mailroom = _mailroom(campaign)
    publication = _published_with_objection(campaign)
    ids = {
        "red": world["entries"]["red"].id,
        "notice": Notice.get().id,
        "publication": publication.id,
        **mailroom,
    }
    for name, path in ORGANIZER_PAGES[1:]:
        page.goto(path.format(**ids))
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(600)  # ECharts' entry animation
        page.screenshot(path=folder / f"{name}.png")
    _scan_pages(page, folder, ids)
    page.get_by_role("button", name="退出", exact=True).click()

    page.goto("/console/dept/login")
    expect(page.get_by_role("img", name="登录二维码")).to_be_visible()
    page.screenshot(path=folder / "02-dept-login.png")
    code = ConsoleLoginCode.get()
    wechat.actions.scan(settings.mp.appid, "o-member-d", ticket=code.ticket, wait=True)
    run_jobs()
    page.wait_for_url("**/console/dept/", timeout=15_000)
    page.wait_for_timeout(600)
    page.screenshot(path=folder / "14-dept-home.png")
    page.goto("/console/dept/entries")
    page.screenshot(path=folder / "15-dept-entries.png")

    review = put_in_review(world)  # after the department's pages: entries now in review
    red = review["entries"]["red"].id
    page.context.clear_cookies()  # the department member's browser, now the expert's
    page.goto("/console/login")
    page.get_by_label("用户名").fill("expert-a")
    page.get_by_label("密码").fill("console-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="我的评审")).to_be_visible()
    page.screenshot(path=folder / f"{EXPERT_PAGES[0]}.png")
    page.goto(f"/console/expert/entries/{red}")
    page.get_by_label("通过", exact=True).check()
    page.get_by_label("专家点评（必填，至少 50 字）").fill("做法扎实，成效明显。")
    expect(page.locator(".autosave-state")).to_contain_text("草稿已自动保存")
    page.screenshot(path=folder / f"{EXPERT_PAGES[1]}.png")
    assert page.traffic.foreign() == []


def _mailroom(campaign) -> dict:
    """Winners' packages (one received and ticked) and an exchange session with attendees."""
    from campaign.mailin import rules
    from models import MailIn
    from tests.mailin.winners import make_winner
    from tests.redeem.redeem_fixtures import person, session_of, winner

    entries = [make_winner(campaign, award=a) for a in ("brand", "case", "case", "brand")]
    rules.ensure_mailins(campaign)
    first = MailIn.get(MailIn.entry == entries[0])
    rules.mark_received(first.id, "account:1")
    rules.tick(MailIn.get_by_id(first.id), {"stamped_form": True, "photos": True}, "account:1")
    session = session_of(campaign, capacity=3, title="福州专场")
    unit, _ = winner(campaign, openid="o-screens")
    for number in (1, 2):
        exchange.register(session, unit, person(number), "account:1")
    exchange.register(session, entries[1].unit, person(3), "account:1")
    exchange.register(session, entries[2].unit, person(4), "account:1")  # 候补
    seated = exchange.session_attendees(session)[0]
    return {"mailin": first.id, "session": session.id, "ticket": seated.ticket_code}


def _scan_pages(page, folder: Path, ids: dict) -> None:
    """The two scan pages just after a scan, as the mailroom and the door see them."""
    from playwright.sync_api import expect

    from models import MailIn

    page.goto("/console/mailroom/scan")
    page.locator("#scan-code").fill(MailIn.get_by_id(ids["mailin"]).short_code)
    page.keyboard.press("Enter")
    expect(page.locator("[data-scan-result]")).to_contain_text("签收成功")
    expect(page.locator("#mailin-panel .mailin-status")).to_be_visible()
    page.screenshot(path=folder / "24-mailroom-scan.png")
    page.goto(f"/console/exchange/{ids['session']}/door")
    page.locator("#scan-code").fill(ids["ticket"])
    page.keyboard.press("Enter")
    expect(page.locator("[data-scan-result]")).to_contain_text("签到成功")
    page.screenshot(path=folder / "25-door-scan.png")


def _published_with_objection(campaign):
    """Three winners (one unit withheld its name) on a published 入选名单, one of them under
    a phone objection."""
    from campaign.publication import lists, objections
    from tests.mailin.winners import make_winner

    for award, domain, consent in (("brand", "rural", True), ("case", "urban", True),
                                   ("case", "soe", False)):  # fmt: skip
        make_winner(campaign, award=award, domain=domain, name_consent=consent)
    publication = lists.publish(campaign, {"kind": "final"}, "account:screens")
    objections.file_objection(
        publication,
        {"name": "王五", "phone": "13900001111", "item": 2, "content": "成效数据与实际不符"},
        "phone",
        "account:screens",
    )
    return publication


REVIEW_PAGES = (
    ("40-review-experts", "/console/review/experts"),
    ("41-review-conflicts", "/console/review/conflicts/detected"),
    ("42-review-runs", "/console/review/preflight"),
    ("43-review-run", "/console/review/runs/{run}"),
    ("44-review-board", "/console/review/board"),
    ("45-review-holds", "/console/review/holds"),
    ("46-review-decisions", "/console/review/decisions"),
)


@pytest.mark.skipif(not FOLDER, reason="set SCREENSHOTS=<folder> (or run `make screenshots`)")
def test_review_screenshots(chromium, page, open_window, make_account, wechat, settings):
    """The review pages over the seeded review world: a published run, every review
    submitted (one 不通过), a second draft run, one entry in 复核 and staged decisions."""
    from playwright.sync_api import expect

    from campaign.review import decisions, holds, runs, scores
    from campaign.review.rubric import rubric
    from models import Assignment, Entry
    from tests.review.review_world import full_review, seed

    folder = Path(FOLDER)
    folder.mkdir(parents=True, exist_ok=True)
    seed(open_window, wechat, settings, entries=24, experts=8)
    decisions.open_review(open_window, "test")
    runs.publish(runs.create_run(open_window, "test"), "test")
    weights = {c["code"]: c["max"] for c in rubric(open_window)["criteria"]}
    for n, a in enumerate(Assignment.select().order_by(Assignment.id)):
        body = full_review(weights, 50 + (a.entry_id * 7) % 45, gate="fail" if n == 0 else "pass")
        scores.submit(a, body, f"account:{a.expert_id}")
    draft = runs.create_run(open_window, "test", k=2)
    ranked = list(Entry.select().order_by(Entry.id))  # fresh: review moved their status
    holds.open_recheck(open_window, [ranked[3].id], "test")
    for entry in ranked[5:9]:
        decisions.stage(entry, "shortlisted", "", "test")
    make_account("org1", "organizer")

    page.goto("/console/login")
    page.get_by_label("用户名").fill("org1")
    page.get_by_label("密码").fill("console-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="征集漏斗")).to_be_visible()
    for name, path in REVIEW_PAGES:
        page.goto(path.format(run=draft.id))
        page.wait_for_load_state("networkidle")
        page.screenshot(path=folder / f"{name}.png")
    assert page.traffic.foreign() == []
