"""The organizer's review pages: experts, conflicts, pre-flight, runs (progress that survives a
reload, diff, publish), the board, 复核 and decisions; through the Flask client with the
console's cookies and CSRF, and in Chromium. Refusals come back with the rules' Chinese
messages."""

import os
import re

import pytest

from campaign.review import decisions
from campaign.review.rubric import rubric
from models import (
    Account,
    Assignment,
    AssignmentRun,
    ConflictDeclaration,
    Decision,
    Entry,
    ReviewHold,
)
from tests.console.browser import missing_reason, unlabelled
from tests.review.review_world import auth, full_review, seed

pytest_plugins = ("tests.notice_fixtures",)  # fast_outbox
REVIEW = "/console/review"


@pytest.fixture
def reviewing(open_window, wechat, settings):
    """The seeded review world (12 entries, 8 experts), with review open."""
    world = seed(open_window, wechat, settings, entries=12, experts=8)
    decisions.open_review(open_window, "test")
    return world


def error_of(response) -> dict:
    return response.get_json()["error"]


def score_everything(client, world):
    """Every expert submits a full review of each assigned entry (through the expert API)."""
    weights = {c["code"]: c["max"] for c in rubric(world["entries"][0].campaign)["criteria"]}
    for person in world["experts"]:
        mine = list(Assignment.select().where(Assignment.expert == person["account"].id))
        for a in mine:
            path = f"/api/v1/expert/entries/{a.entry_id}/review"
            body = full_review(weights, 50 + (a.entry_id * 7) % 40)
            assert client.put(path, json=body, headers=auth(person["token"])).status_code == 200
            done = client.post(f"{path}/submit", json={}, headers=auth(person["token"]))
            assert done.status_code == 200, done.get_json()


def test_experts_are_listed_invited_and_paused(organizer_browser, reviewing):
    page = organizer_browser.get(f"{REVIEW}/experts")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "专家0" in text and "专家3" in text and 'for="x-name"' in text

    bad = organizer_browser.post(f"{REVIEW}/experts", {"username": "x"}, htmx=True)
    assert bad.status_code == 422
    assert error_of(bad)["message"] == "提交的内容未通过校验"
    assert {f["field"] for f in error_of(bad)["fields"]} >= {"username", "display_name", "domains"}

    made = organizer_browser.post(
        f"{REVIEW}/experts",
        {"username": "newexpert", "display_name": "王专家", "domains": ["rural"], "cap": "1500"},
        htmx=True,
    )
    assert made.status_code == 200
    text = made.get_data(as_text=True)
    assert "王专家" in text and "初始密码" in text and "1,500" in text
    account = Account.get(Account.username == "newexpert")
    assert account.role == "expert"

    paused = organizer_browser.post(f"{REVIEW}/experts/{account.id}/pause", htmx=True)
    assert paused.status_code == 200 and "已暂停" in paused.get_data(as_text=True)
    assert not Account.get_by_id(account.id).active
    assert organizer_browser.post(f"{REVIEW}/experts/999999/pause", htmx=True).status_code == 404


def test_conflicts_declared_withdrawn_and_detected(organizer_browser, reviewing):
    expert = reviewing["experts"][2]["account"]
    entry = reviewing["entries"][0]
    organizer_browser.get(f"{REVIEW}/conflicts")
    nobody = organizer_browser.post(f"{REVIEW}/conflicts", {"entry": str(entry.id)}, htmx=True)
    assert nobody.status_code == 422 and error_of(nobody)["fields"][0]["field"] == "expert"
    nothing = organizer_browser.post(f"{REVIEW}/conflicts", {"expert": str(expert.id)}, htmx=True)
    assert nothing.status_code == 422
    assert error_of(nothing)["fields"][0]["message"] == "请指明作品、单位或部门"

    declared = organizer_browser.post(
        f"{REVIEW}/conflicts",
        {"expert": str(expert.id), "entry": str(entry.id), "reason": "曾指导该单位"},
        htmx=True,
    )
    assert declared.status_code == 200
    assert "曾指导该单位" in declared.get_data(as_text=True)
    row = ConflictDeclaration.get(ConflictDeclaration.expert == expert.id)
    withdrawn = organizer_browser.post(f"{REVIEW}/conflicts/{row.id}/withdraw", htmx=True)
    assert withdrawn.status_code == 200 and "暂无申报的回避" in withdrawn.get_data(as_text=True)

    recusal = ConflictDeclaration.create(expert=expert.id, entry=entry.id, kind="recusal")
    kept = organizer_browser.post(f"{REVIEW}/conflicts/{recusal.id}/withdraw", htmx=True)
    assert kept.status_code == 409 and error_of(kept)["message"] == "专家本人申请的回避不能撤销"

    detected = organizer_browser.get(f"{REVIEW}/conflicts/detected").get_data(as_text=True)
    assert "专家所在部门为作品的推荐部门或其上级部门" in detected


def test_preflight_run_progress_diff_and_publish(organizer_browser, reviewing, run_jobs):
    report = organizer_browser.get(f"{REVIEW}/preflight?k=2", headers={"HX-Request": "true"})
    text = report.get_data(as_text=True)
    assert report.status_code == 200 and "<html" not in text and "名额充足" in text
    too_big = organizer_browser.get(f"{REVIEW}/preflight?k=11", headers={"HX-Request": "true"})
    assert too_big.status_code == 422 and error_of(too_big)["fields"][0]["field"] == "k"

    organizer_browser.get(f"{REVIEW}/runs")
    started = organizer_browser.post(f"{REVIEW}/runs", {"k": "2"}, htmx=True)
    assert started.status_code == 200 and "排队中" in started.get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in started.get_data(as_text=True)
    reloaded = organizer_browser.get(f"{REVIEW}/runs").get_data(as_text=True)
    assert "排队中" in reloaded, "the solve's progress survives a reload"

    run_jobs()
    after = organizer_browser.get(f"{REVIEW}/runs").get_data(as_text=True)
    assert "已完成" in after and "every 2s" not in after
    run = AssignmentRun.get()
    assert f"/console/review/runs/{run.id}" in after

    shown = organizer_browser.get(f"{REVIEW}/runs/{run.id}").get_data(as_text=True)
    added = len(run.pairs)
    assert re.search(rf'class="diff-added">{added:,}<', shown)
    assert "专家" in organizer_browser.get(f"{REVIEW}/runs/{run.id}?view=loads").get_data(
        as_text=True
    )

    organizer_browser.post(f"{REVIEW}/runs", {"k": "3"}, htmx=True)
    run_jobs()
    second = AssignmentRun.select().order_by(AssignmentRun.id.desc()).first()
    compared = organizer_browser.get(f"{REVIEW}/runs/{second.id}?against={run.id}")
    assert f"与方案 #{run.id}相比" in compared.get_data(as_text=True)

    published = organizer_browser.post(f"{REVIEW}/runs/{run.id}/publish", htmx=True)
    assert published.status_code == 204
    assert published.headers["HX-Redirect"] == f"/console/review/runs/{run.id}"
    assert Assignment.select().count() == added
    again = organizer_browser.post(f"{REVIEW}/runs/{second.id}/publish", htmx=True)
    assert again.status_code == 409  # publishing one draft discarded the other
    assert error_of(again)["message"] == "只能发布草稿状态的分配方案"
    page = organizer_browser.get(f"{REVIEW}/runs/{second.id}/publish")
    assert page.status_code == 405
    missing = organizer_browser.get(f"{REVIEW}/runs/999999")
    assert missing.status_code == 404 and "请求的内容不存在" in missing.get_data(as_text=True)


def publish_a_run(organizer_browser, run_jobs, k="3"):
    organizer_browser.get(f"{REVIEW}/runs")
    organizer_browser.post(f"{REVIEW}/runs", {"k": k}, htmx=True)
    run_jobs()
    run = AssignmentRun.get()
    assert organizer_browser.post(f"{REVIEW}/runs/{run.id}/publish", htmx=True).status_code == 204
    run_jobs()
    return run


def test_board_holds_and_decisions(
    organizer_browser, client, reviewing, run_jobs, fast_outbox, open_window
):
    publish_a_run(organizer_browser, run_jobs)
    score_everything(client, reviewing)
    board = organizer_browser.get(f"{REVIEW}/board")
    text = board.get_data(as_text=True)
    assert board.status_code == 200
    criteria = rubric(open_window)["criteria"]
    assert all(f'title="满分 {c["max"]}">{c["label"]}</th>' in text for c in criteria)
    assert all(f"#{e.id} {e.title}</td>" in text for e in reviewing["entries"])
    assert "中位数" in text and "校正分" in text and "缺 " not in text
    printed = organizer_browser.get(f"{REVIEW}/board?print=1").get_data(as_text=True)
    assert "review-board" in printed and "专家宽严度" in printed
    sheet = organizer_browser.get(f"{REVIEW}/scores.xlsx")
    assert sheet.status_code == 200 and sheet.data.startswith(b"PK")

    some = reviewing["entries"][0]
    organizer_browser.get(f"{REVIEW}/holds")
    sent = organizer_browser.post(f"{REVIEW}/holds/recheck", {"entries": f"{some.id}，abc"})
    assert sent.status_code == 422 and "作品编号格式不正确" in sent.get_data(as_text=True)
    sent = organizer_browser.post(f"{REVIEW}/holds/recheck", {"entries": str(some.id)}, htmx=True)
    assert sent.status_code == 204 and "sent=1" in sent.headers["HX-Redirect"]
    holds_page = organizer_browser.get(f"{REVIEW}/holds?sent=1").get_data(as_text=True)
    assert "已送复核 1 件作品" in holds_page and "待裁定" in holds_page
    wrong = organizer_browser.post(
        f"{REVIEW}/entries/{some.id}/recheck", {"outcome": "maybe"}, htmx=True
    )
    assert wrong.status_code == 409 and error_of(wrong)["message"] == "裁定结果无效"
    ruled = organizer_browser.post(
        f"{REVIEW}/entries/{some.id}/recheck", {"outcome": "confirm", "note": "维持"}, htmx=True
    )
    assert ruled.status_code == 204
    assert ReviewHold.get(ReviewHold.entry == some.id).outcome == "confirm"

    organizer_browser.get(f"{REVIEW}/decisions")
    bad = organizer_browser.post(
        f"{REVIEW}/entries/{some.id}/decision", {"outcome": "gold"}, htmx=True
    )
    assert bad.status_code == 422 and error_of(bad)["fields"][0]["message"] == "选项无效"
    illegal = organizer_browser.post(
        f"{REVIEW}/entries/{some.id}/decision", {"outcome": "brand"}, htmx=True
    )
    assert illegal.status_code == 409 and "不能入选品牌" in error_of(illegal)["message"]
    staged = organizer_browser.post(
        f"{REVIEW}/entries/{some.id}/decision", {"outcome": "shortlisted"}, htmx=True
    )
    assert staged.status_code == 204
    listed = organizer_browser.get(f"{REVIEW}/decisions").get_data(as_text=True)
    assert '<strong class="pending-count">1</strong>' in listed and "初选（待执行）" in listed
    unstage = {"outcome": "unstage"}
    assert (
        organizer_browser.post(
            f"{REVIEW}/entries/{some.id}/decision", unstage, htmx=True
        ).status_code
        == 204
    )
    assert not Decision.select().where(Decision.entry == some.id).exists()
    again = organizer_browser.post(f"{REVIEW}/entries/{some.id}/decision", unstage, htmx=True)
    assert again.status_code == 409 and error_of(again)["message"] == "该作品没有待执行的决定"
    blank = organizer_browser.post(
        f"{REVIEW}/entries/{some.id}/decision", {"outcome": ""}, htmx=True
    )
    assert blank.status_code == 422
    organizer_browser.post(
        f"{REVIEW}/entries/{some.id}/decision", {"outcome": "shortlisted"}, htmx=True
    )
    applied = organizer_browser.post(f"{REVIEW}/decisions/apply", htmx=True)
    assert applied.status_code == 204 and "applied=1" in applied.headers["HX-Redirect"]
    assert Entry.get_by_id(some.id).status == "shortlisted"
    assert Decision.get(Decision.entry == some.id).state == "applied"
    nothing = organizer_browser.post(f"{REVIEW}/decisions/apply", htmx=True)
    assert nothing.status_code == 409 and error_of(nothing)["message"] == "没有待执行的决定"


def test_a_page_load_refusal_shows_the_error_page(organizer_browser, reviewing):
    organizer_browser.get(f"{REVIEW}/decisions")
    refused = organizer_browser.post(f"{REVIEW}/decisions/apply")
    assert refused.status_code == 409
    assert "没有待执行的决定" in refused.get_data(as_text=True)
    assert refused.mimetype == "text/html"


def test_a_post_without_the_csrf_token_is_refused(organizer_browser, reviewing):
    organizer_browser.get(f"{REVIEW}/experts")
    refused = organizer_browser.post(
        f"{REVIEW}/experts", {"username": "nocsrf"}, htmx=True, csrf=False
    )
    assert refused.status_code == 403
    assert not Account.select().where(Account.username == "nocsrf").exists()


# --- in Chromium ------------------------------------------------------------------------

browser_only = pytest.mark.skipif(
    bool(missing_reason()) and os.environ.get("REQUIRE_BROWSER") != "1",
    reason=missing_reason() or "",
)


@pytest.mark.browser
@browser_only
def test_organizer_walks_review_in_the_browser(
    page, make_account, reviewing, client, run_jobs, fast_outbox
):
    from playwright.sync_api import expect

    from tests.console.test_console_browser import expect_clean, sign_in

    make_account("org1")
    sign_in(page, "org1")
    page.on("dialog", lambda dialog: dialog.accept())

    page.goto(f"{REVIEW}/experts")
    page.get_by_label("姓名").fill("赵专家")
    page.get_by_label("用户名（登录用）").fill("zhaoexpert")
    page.get_by_label("农村基层党建").check()
    page.get_by_role("button", name="添加专家").click()
    expect(page.locator(".initial-password")).to_be_visible()
    expect(page.get_by_role("cell", name="赵专家")).to_be_visible()

    page.goto(f"{REVIEW}/conflicts")
    expert = reviewing["experts"][1]["account"]
    page.get_by_label("评审专家").select_option(str(expert.id))
    page.get_by_label("作品编号").fill(str(reviewing["entries"][3].id))
    page.get_by_label("理由").fill("曾参与该案例材料撰写")
    page.get_by_role("button", name="登记").click()
    expect(page.get_by_role("cell", name="曾参与该案例材料撰写")).to_be_visible()

    page.goto(f"{REVIEW}/runs")
    page.get_by_role("button", name="检查").click()
    expect(page.locator(".preflight-verdict")).to_be_visible()
    page.get_by_role("button", name="生成分配方案").click()
    expect(page.locator(".job-state")).to_have_text("排队中")
    page.reload()
    expect(page.locator(".job-state")).to_have_text("排队中")  # survives the reload
    run_jobs()
    expect(page.locator(".job-state")).to_have_text("已完成", timeout=15_000)  # by polling
    page.locator(".solve-job a").click()
    page.get_by_role("button", name="发布此方案").click()
    expect(page.locator(".run-status")).to_have_text("已发布")
    run_jobs()

    score_everything(client, reviewing)
    page.goto(f"{REVIEW}/board")
    expect(page.get_by_role("heading", name="评审看板")).to_be_visible()
    expect(page.locator(".review-board tbody tr")).to_have_count(12)
    page.emulate_media(media="print")
    assert not page.get_by_role("navigation", name="主导航").is_visible()
    page.emulate_media(media="screen")

    entry = reviewing["entries"][0]
    page.goto(f"{REVIEW}/decisions")
    row = page.locator(f"#decision-{entry.id}")
    row.get_by_label("结果").select_option("shortlisted")
    row.get_by_role("button", name="暂存").click()
    expect(page.locator(f"#decision-{entry.id} .decision-now")).to_have_text("初选（待执行）")
    page.get_by_role("button", name="执行全部决定").click()
    expect(page.get_by_role("status")).to_contain_text("已执行 1 项决定")
    assert Entry.get_by_id(entry.id).status == "shortlisted"

    run = AssignmentRun.get()
    for path in (
        "experts",
        "conflicts/detected",
        "runs",
        f"runs/{run.id}",
        "board",
        "holds",
        "decisions",
    ):
        page.goto(f"{REVIEW}/{path}")
        assert unlabelled(page) == [], path
    expect_clean(page)


def test_the_organizer_opens_review_from_the_runs_page(
    organizer_browser, open_window, wechat, settings
):
    """转入评审 moves the ready entries (as the API's open does) and says how many; pressing
    it again moves nothing more."""
    world = seed(open_window, wechat, settings, entries=6, experts=3)
    ready = [e.id for e in world["entries"]]
    opened = organizer_browser.post(f"{REVIEW}/open", htmx=True)
    assert opened.status_code == 200
    assert "已转入 6 件案例" in opened.get_data(as_text=True)
    moved = Entry.select().where(Entry.id.in_(ready) & (Entry.status == "under_review"))
    assert moved.count() == 6
    again = organizer_browser.post(f"{REVIEW}/open", htmx=True).get_data(as_text=True)
    assert "已转入 0 件案例" in again
    page = organizer_browser.get(f"{REVIEW}/runs").get_data(as_text=True)
    assert "转入评审" in page


def test_an_entry_held_on_the_gate_shows_no_rank(organizer_browser, reviewing, run_jobs):
    """The board says entries waiting for the chair take no part in the ranking; its rank
    cell says so too."""
    from campaign.review import scores

    publish_a_run(organizer_browser, run_jobs)
    weights = {c["code"]: c["max"] for c in rubric(reviewing["entries"][0].campaign)["criteria"]}
    first = Assignment.select().order_by(Assignment.id).first()
    for a in Assignment.select():
        gate = "fail" if a.entry_id == first.entry_id else "pass"
        scores.submit(a, full_review(weights, 70, gate=gate), f"account:{a.expert_id}")
    text = organizer_browser.get(f"{REVIEW}/board").get_data(as_text=True)
    held = re.search(rf'<td class="num">([^<]*)</td><td>[^<]*</td><td>#{first.entry_id} ', text)
    assert held and held.group(1) == "—"
    ranked = re.findall(r'<tr[^>]*><td class="num">(\d+)</td>', text)
    assert ranked and "1" in ranked
