"""The organizer's console pages for 公示 (lists, window, objections, 递补), the casebook and
the mail-in status list, through Flask's test client (a browser walk is at the end)."""

import datetime
import io
import os
import re

import pytest
from openpyxl import load_workbook

from campaign.entries import status
from campaign.mailin import rules as mailin_rules
from models import Casebook, Entry, MailIn, Objection, Publication
from tests.console.browser import missing_reason, unlabelled
from tests.mailin.winners import make_winner
from tests.publication.conftest import Seeder

TODAY = datetime.datetime.now(datetime.UTC).date()  # the campaign's date, give or take a day
PAST = str(TODAY - datetime.timedelta(days=20))
YESTERDAY = str(TODAY - datetime.timedelta(days=2))


@pytest.fixture(autouse=True)
def fresh_publication_cache():
    from tasks import publication_cache

    publication_cache.invalidate()
    yield


@pytest.fixture
def seed(open_window):
    return Seeder(open_window)


@pytest.fixture
def listed(seed):
    """Three winners to publish, and one shortlisted entry to bring in as a 递补."""
    winners = [seed.entry(domain=d) for d in ("rural", "urban", "soe")]
    spare = seed.entry(to=status.SHORTLISTED)
    return winners, spare


def publish(browser, **fields):
    data = {"kind": "final", "starts_on": PAST, "ends_on": YESTERDAY, **fields}
    response = browser.post("/console/publications", data, htmx=True)
    assert response.status_code == 204, response.get_data(as_text=True)
    return response.headers["HX-Redirect"]


def error_of(response) -> dict:
    return response.get_json()["error"]


def test_the_draft_shows_the_frozen_columns_and_publishing_opens_version_1(
    organizer_browser, listed
):
    winners, _ = listed
    draft = organizer_browser.get("/console/publications/draft/final")
    html = draft.get_data(as_text=True)
    assert draft.status_code == 200 and "排名不分先后" in html
    for header in ("序号", "案例名称", "单位", "领域", "地区", "类别"):
        assert f">{header}</th>" in html
    assert all(w.title in html for w in winners)
    assert "1390591" not in html  # contacts and phones are never on a list

    location = publish(organizer_browser)
    page = organizer_browser.get(location).get_data(as_text=True)
    publication = Publication.get()
    assert (publication.kind, publication.version, publication.state) == ("final", 1, "open")
    assert "第 1 版" in page and "公示中" in page
    assert f"/p/{publication.id}" in page  # the public page
    printed = organizer_browser.get(f"{location}/print").get_data(as_text=True)
    assert "publication.css" in printed and all(w.title in printed for w in winners)
    index = organizer_browser.get("/console/publications").get_data(as_text=True)
    assert "查看第 1 版" in index


def test_bad_windows_and_an_empty_replacement_answer_in_chinese(organizer_browser, listed):
    bad = organizer_browser.post(
        "/console/publications",
        {"kind": "final", "starts_on": YESTERDAY, "ends_on": PAST},
        htmx=True,
    )
    assert bad.status_code == 422
    assert error_of(bad)["fields"][0]["message"] == "截止日期不能早于开始日期"
    location = publish(organizer_browser)
    pid = int(location.rsplit("/", 1)[1])
    empty = organizer_browser.post(f"/console/publications/{pid}/window", {}, htmx=True)
    assert empty.status_code == 422 and error_of(empty)["fields"][0]["field"] == "ends_on"
    moved = organizer_browser.post(
        f"/console/publications/{pid}/window", {"ends_on": str(TODAY + datetime.timedelta(days=9))},
        htmx=True,
    )  # fmt: skip
    assert moved.status_code == 204
    assert Publication.get_by_id(pid).ends_on == TODAY + datetime.timedelta(days=9)
    unchanged = organizer_browser.post(
        f"/console/publications/{pid}/republish", {"reason": "无变化"}, htmx=True
    )
    assert unchanged.status_code == 409 and error_of(unchanged)["code"] == "nothing_changed"
    early = organizer_browser.post(f"/console/publications/{pid}/finalize", htmx=True)
    assert early.status_code == 409 and error_of(early)["message"] == "公示期尚未结束，不能定稿"


def test_objection_blocks_finalizing_then_upheld_replacement_makes_version_2(
    organizer_browser, listed
):
    winners, spare = listed
    location = publish(organizer_browser)
    v1 = Publication.get()
    first = v1.items.where(v1.items.model.position == 1).get()

    entered = organizer_browser.post(
        f"/console/publications/{v1.id}/objections",
        {"received_via": "letter", "filer_kind": "person", "name": "王五",
         "phone": "13900001111", "item": "1", "content": "成效数据与实际不符",
         "postmark_on": str(TODAY - datetime.timedelta(days=3))},
        htmx=True,
    )  # fmt: skip
    assert entered.status_code == 204, entered.get_data(as_text=True)
    objection = Objection.get()
    assert (objection.received_via, objection.entry_id, objection.timely) == (
        "letter", first.entry_id, True,
    )  # fmt: skip

    refused = organizer_browser.post(f"/console/publications/{v1.id}/finalize", htmx=True)
    assert refused.status_code == 409
    assert error_of(refused)["message"] == "还有 1 件异议未办结，不能定稿"
    listing = organizer_browser.get("/console/objections?state=open").get_data(as_text=True)
    assert "成效数据与实际不符" in listing and "已收到" in listing

    ticket = f"/console/objections/{objection.id}"
    page = organizer_browser.get(ticket).get_data(as_text=True)
    assert "开始核查" in page and "异议成立" not in page.split("处理结果")[1].split("</select>")[0]
    no_reply = organizer_browser.post(f"{ticket}/handle", {"to": "upheld"}, htmx=True)
    assert no_reply.status_code == 422  # received → upheld is not a move
    assert (
        organizer_browser.post(f"{ticket}/handle", {"to": "verifying"}, htmx=True).status_code
        == 204
    )
    missing = organizer_browser.post(f"{ticket}/handle", {"to": "upheld"}, htmx=True)
    assert missing.status_code == 422 and error_of(missing)["fields"][0]["field"] == "reply"
    upheld = organizer_browser.post(
        f"{ticket}/handle", {"to": "upheld", "reply": "经核查属实，撤销入选", "handler": "李四"},
        htmx=True,
    )  # fmt: skip
    assert upheld.status_code == 204
    assert Entry.get_by_id(first.entry_id).status == status.NOT_SELECTED  # award withdrawn
    page = organizer_browser.get(location).get_data(as_text=True)
    assert "异议成立，已撤销" in page

    republished = organizer_browser.post(
        f"/console/publications/{v1.id}/republish",
        {"reason": "异议成立，按评审排序递补", "entry": [str(spare.id), ""],
         "award": ["case", "brand"], "starts_on": PAST, "ends_on": YESTERDAY},
        htmx=True,
    )  # fmt: skip
    assert republished.status_code == 204, republished.get_data(as_text=True)
    v2 = Publication.get(Publication.version == 2)
    assert Entry.get_by_id(spare.id).status == status.AWARDED
    page = organizer_browser.get(republished.headers["HX-Redirect"]).get_data(as_text=True)
    assert "第 2 版" in page and spare.title in page and first.title not in page
    old = organizer_browser.get(location).get_data(as_text=True)
    assert "已被新版本替代" in old and first.title in old  # the old version stays viewable
    stale = organizer_browser.post(f"/console/publications/{v1.id}/finalize", htmx=True)
    assert stale.status_code == 409 and error_of(stale)["code"] == "superseded"

    done = organizer_browser.post(f"/console/publications/{v2.id}/finalize", htmx=True)
    assert done.status_code == 204
    assert Publication.get_by_id(v2.id).state == "finalized"


def test_a_letter_from_a_unit_is_entered_with_its_scan_and_postmark(organizer_browser, listed):
    from PIL import Image

    publish(organizer_browser)
    publication = Publication.get()
    scan = io.BytesIO()
    Image.new("RGB", (60, 40), "white").save(scan, "PNG")
    late = str(TODAY + datetime.timedelta(days=1))  # posted after the window ended
    entered = organizer_browser.post(
        f"/console/publications/{publication.id}/objections",
        {"received_via": "letter", "filer_kind": "unit", "unit_name": "某某公司党委",
         "name": "赵六", "phone": "0591-87808286", "content": "请核实第2项",
         "item": "2", "postmark_on": late, "letter": (io.BytesIO(scan.getvalue()), "函.png")},
        htmx=True,
        content_type="multipart/form-data",
    )  # fmt: skip
    assert entered.status_code == 204, entered.get_data(as_text=True)
    objection = Objection.get()
    assert objection.timely is False and objection.letter_key
    page = organizer_browser.get(entered.headers["HX-Redirect"]).get_data(as_text=True)
    assert "已逾公示期" in page and "查看扫描件" in page and "序号 2" in page
    letter = organizer_browser.get(f"/console/objections/{objection.id}/letter")
    assert letter.status_code == 200 and letter.mimetype.startswith("image/")
    no_postmark = organizer_browser.post(
        f"/console/publications/{publication.id}/objections",
        {"received_via": "letter", "name": "钱七", "phone": "13900002222", "content": "x"},
        htmx=True,
    )
    assert no_postmark.status_code == 422
    assert [f["field"] for f in error_of(no_postmark)["fields"]] == ["postmark_on"]


def test_an_anonymous_tip_is_closed_as_not_accepted(organizer_browser, listed):
    publish(organizer_browser)
    publication = Publication.get()
    entered = organizer_browser.post(
        f"/console/publications/{publication.id}/objections",
        {"received_via": "phone", "filer_kind": "anonymous", "content": "听说有问题"},
        htmx=True,
    )
    assert entered.status_code == 204
    objection = Objection.get()
    handled = organizer_browser.post(
        f"/console/objections/{objection.id}/handle", {"to": "not_accepted"}, htmx=True
    )
    assert handled.status_code == 204
    page = organizer_browser.get(f"/console/objections/{objection.id}").get_data(as_text=True)
    assert "不予受理" in page and "匿名线索不清，不予受理" in page
    filtered = organizer_browser.get(
        "/console/objections?state=not_accepted", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "<html" not in filtered and "听说有问题" in filtered  # only the results block
    other = organizer_browser.get("/console/objections?state=upheld").get_data(as_text=True)
    assert "听说有问题" not in other
    bad_via = organizer_browser.post(
        f"/console/publications/{publication.id}/objections",
        {"received_via": "h5", "content": "x"},
        htmx=True,
    )
    assert bad_via.status_code == 422


def test_the_casebook_build_reports_progress_across_reloads_and_serves_both_files(
    organizer_browser, open_window, run_jobs
):
    made = [make_winner(open_window, award=a) for a in ("brand", "case", "case")]
    page = organizer_browser.get("/console/casebook").get_data(as_text=True)
    assert all(e.title in page for e in made) and "还没有生成过案例汇编" in page
    bad = organizer_browser.post("/console/casebook/builds", {"photos_per_case": "9"}, htmx=True)
    assert bad.status_code == 422 and "0 到 6" in error_of(bad)["fields"][0]["message"]

    started = organizer_browser.post(
        "/console/casebook/builds", {"photos_per_case": "1"}, htmx=True
    )
    block = started.get_data(as_text=True)
    book = Casebook.get()
    assert "排队中" in block and f'hx-get="/console/casebook/builds/{book.id}"' in block
    reloaded = organizer_browser.get("/console/casebook").get_data(as_text=True)
    assert "排队中" in reloaded and 'hx-trigger="every 2s"' in reloaded  # polls after a reload
    run_jobs()
    polled = organizer_browser.get(
        f"/console/casebook/builds/{book.id}", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "已完成" in polled and "6/6" in polled and "every 2s" not in polled
    pdf = organizer_browser.get(f"/console/casebook/builds/{book.id}/casebook.pdf")
    docx = organizer_browser.get(f"/console/casebook/builds/{book.id}/casebook.docx")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert docx.status_code == 200 and docx.data.startswith(b"PK")
    preview = organizer_browser.get(f"/console/casebook/preview/{made[0].id}")
    assert preview.status_code == 200 and preview.data.startswith(b"%PDF")
    loser = organizer_browser.get("/console/casebook/preview/999999")
    assert loser.status_code == 404


def test_the_mailin_list_filters_paginates_and_exports(organizer_browser, open_window):
    made = [make_winner(open_window) for _ in range(23)]
    mailin_rules.ensure_mailins(open_window)
    first = MailIn.get(MailIn.entry == made[0].id)
    mailin_rules.mark_received(first.id, "test")
    mailin_rules.mark_incomplete(MailIn.get_by_id(first.id), ["video"], "光盘损坏", "test")

    page = organizer_browser.get("/console/mailroom").get_data(as_text=True)
    assert "共 23 条，第 1/2 页" in page and "/console/mailroom/scan" in page
    assert re.search(r'mailin-count-awaiting">22<', page)
    second = organizer_browser.get("/console/mailroom?page=2").get_data(as_text=True)
    assert "第 2/2 页" in second
    incomplete = organizer_browser.get("/console/mailroom?status=incomplete").get_data(as_text=True)
    assert "共 1 条" in incomplete and "影像资料" in incomplete and "光盘损坏" in incomplete

    export = organizer_browser.get("/console/mailroom/export.xlsx")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 24 and rows[0][0] == "编码"
    assert any(row[0] == first.short_code and row[7] == "材料不全" for row in rows)


# --- In a real browser ------------------------------------------------------------------------

browser_only = pytest.mark.skipif(
    bool(missing_reason()) and os.environ.get("REQUIRE_BROWSER") != "1",
    reason=missing_reason() or "",
)


@browser_only
@pytest.mark.browser
def test_an_organizer_walks_publication_objection_replacement_casebook_and_mailin(
    page, make_account, seed, open_window, run_jobs
):
    from playwright.sync_api import expect

    winners = [seed.entry(domain=d) for d in ("rural", "urban")]
    spare = seed.entry(to=status.SHORTLISTED)
    make_account("org1")
    page.goto("/console/login")
    page.get_by_label("用户名").fill("org1")
    page.get_by_label("密码").fill("console-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="征集漏斗")).to_be_visible()

    page.get_by_role("link", name="公示", exact=True).click()
    page.get_by_role("link", name="按评审决定生成入选名单").click()
    expect(page.get_by_text("排名不分先后")).to_be_visible()
    assert unlabelled(page) == []
    page.get_by_label("公示开始日期").fill(PAST)
    page.get_by_label("截止日期（留空按工作日计算）").fill(YESTERDAY)
    page.get_by_role("button", name=re.compile("发布入选名单")).click()
    page.wait_for_url(re.compile(r"/console/publications/\d+$"))
    expect(page.locator(".publication-version")).to_have_text("第 1 版")
    v1_url = page.url
    assert unlabelled(page) == []

    page.get_by_label("收到方式").select_option("phone")
    page.get_by_label("姓名 / 联系人").fill("王五")
    page.get_by_label("电话", exact=True).fill("13900001111")
    page.get_by_label("针对序号（整份名单留空）").fill("1")
    page.get_by_label("异议内容").fill("成效数据与实际不符")
    page.get_by_role("button", name="录入异议").click()
    page.wait_for_url(re.compile(r"/console/objections/\d+$"))
    expect(page.locator("h1 .objection-state")).to_have_text("已收到")

    page.goto(v1_url)
    page.once("dialog", lambda dialog: dialog.accept())  # hx-confirm
    page.get_by_role("button", name="定稿").click()
    expect(page.locator("#flash")).to_contain_text("还有 1 件异议未办结，不能定稿")

    page.goto(f"/console/objections/{Objection.get().id}")
    page.get_by_label("处理结果").select_option("verifying")
    page.get_by_role("button", name="提交").click()
    expect(page.locator("h1 .objection-state")).to_have_text("核查中")
    page.get_by_label("处理结果").select_option("upheld")
    page.get_by_label("答复（成立、不成立、不予受理须填写）").fill("经核查属实")
    page.get_by_role("button", name="提交").click()
    expect(page.locator("h1 .objection-state")).to_have_text("异议成立")
    withdrawn = Objection.get().entry_id
    assert Entry.get_by_id(withdrawn).status == status.NOT_SELECTED

    page.goto(v1_url)
    expect(page.get_by_text("异议成立，已撤销")).to_be_visible()
    page.get_by_label("递补原因（必填）").fill("异议成立，递补")
    page.get_by_label("递补案例编号 1").fill(str(spare.id))
    page.get_by_role("button", name="递补并发布新版本").click()
    page.wait_for_url(lambda url: url != v1_url and "/console/publications/" in url)
    expect(page.locator(".publication-version")).to_have_text("第 2 版")
    expect(page.locator(".publication-list")).to_contain_text(spare.title)
    page.get_by_role("link", name="第 1 版").click()
    expect(page.locator(".publication-state")).to_have_text("已被新版本替代")
    gone = Entry.get_by_id(withdrawn).title
    expect(page.locator(".publication-list")).to_contain_text(gone)

    page.get_by_role("link", name="汇编", exact=True).click()
    assert unlabelled(page) == []
    page.get_by_role("button", name="生成整本汇编").click()
    expect(page.locator(".casebook-state")).to_have_text(re.compile("排队中|生成中"))
    page.reload()
    expect(page.locator(".casebook-state")).to_have_text(re.compile("排队中|生成中"))
    run_jobs()
    expect(page.locator(".casebook-state")).to_have_text("已完成", timeout=15_000)  # polled
    expect(page.get_by_role("link", name=re.compile("下载 PDF"))).to_be_visible()

    page.get_by_role("link", name="材料寄送", exact=True).click()
    expect(page.locator(".mailin-count-awaiting")).to_have_text(str(len(winners)))
    assert unlabelled(page) == []
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    assert download.value.suggested_filename == "入选材料邮寄情况.xlsx"
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    assert sheet.max_row == 1 + len(winners)  # the replacement is a winner, the withdrawn not
    assert page.traffic.foreign() == [] and page.traffic.csp_violations() == []
