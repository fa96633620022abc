"""Expert pages through Flask's client: 我的评审 with progress and the deadline, the reading
view with its evidence, the rubric form (autosave, submit, reopen, read-only after the
deadline), recusal, refusals for entries not assigned, and — on every expert page — no
route, department or endorsement."""

import datetime

import pytest

from campaign.definition import options
from campaign.review import rubric
from models import Assignment, Campaign, ConflictDeclaration, Score, utcnow
from tests.console.conftest import Browser

EXPERT = "/console/expert"


@pytest.fixture
def expert_a(browser, expert_world):
    response = browser.sign_in("expert-a")
    assert response.status_code == 303 and response.location.endswith(EXPERT)
    return browser


def entry_path(world, key: str) -> str:
    return f"{EXPERT}/entries/{world['entries'][key].id}"


def full_form(campaign, share: float = 0.8) -> dict:
    """A complete rubric form: 通过, each criterion at `share` of its points, a long 点评."""
    form = {"gate": "pass", "gate_remark": "", "comment": "该案例做法扎实、成效明显。" * 6}
    for c in rubric.rubric(campaign)["criteria"]:
        form[f"score-{c['code']}"] = str(round(c["max"] * share, 1))
        form[f"remark-{c['code']}"] = f"{c['label']}较好"
    return form


def test_home_lists_assigned_entries_with_progress_and_deadline(expert_a, expert_world):
    page = expert_a.get(EXPERT).get_data(as_text=True)
    assert "红色引擎赋能乡村振兴" in page and "党建引领社区治理" in page
    assert "数字党建平台建设" not in page  # expert B's
    assert "已提交 <strong>0</strong> / 2 件" in page
    closes = expert_world["campaign"].review_closes_at + datetime.timedelta(hours=8)
    assert closes.strftime("%Y-%m-%d %H:%M") in page and "北京时间" in page
    assert "农村基层党建" in page  # the domain's label, not its code
    red = Assignment.get(Assignment.entry == expert_world["entries"]["red"].id)
    red.submitted_at = utcnow()
    red.save()
    assert "已提交 <strong>1</strong> / 2 件（50.0%）" in expert_a.get(EXPERT).get_data(
        as_text=True
    )


def test_reading_view_shows_the_text_and_serves_evidence_inline(expert_a, expert_world):
    photo = expert_world["photo"]
    page = expert_a.get(entry_path(expert_world, "red")).get_data(as_text=True)
    assert "红色引擎赋能乡村振兴的摘要" in page and "第1党支部" in page
    for part in ("背景", "做法", "成效", "意义"):
        assert f'<h2 class="h6">{part}</h2>' in page
    src = f"{entry_path(expert_world, 'red')}/attachments/{photo.id}"
    assert f'src="{src}"' in page and 'alt="活动现场.png"' in page
    image = expert_a.get(src)
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert "attachment" not in image.headers.get("Content-Disposition", "")
    # the photo through another assigned entry, or through expert B's entry: nothing
    assert (
        expert_a.get(f"{entry_path(expert_world, 'community')}/attachments/{photo.id}").status_code
        == 404
    )
    assert (
        expert_a.get(f"{entry_path(expert_world, 'digital')}/attachments/{photo.id}").status_code
        == 404
    )


def test_autosave_keeps_what_was_typed_and_the_page_shows_it_again(expert_a, expert_world):
    path = entry_path(expert_world, "red")
    expert_a.get(path)
    criteria = rubric.rubric(expert_world["campaign"])["criteria"]
    first = criteria[0]
    draft = {
        "gate": "doubt",
        "gate_remark": "个别表述需核实",
        f"score-{first['code']}": str(first["max"] + 5),  # out of range: a draft keeps it
        f"remark-{first['code']}": "思路清楚",
        "comment": "初步意见",
    }
    saved = expert_a.post(f"{path}/review", draft, htmx=True)
    assert saved.status_code == 200
    fragment = saved.get_data(as_text=True)
    assert "草稿已自动保存" in fragment and "<html" not in fragment
    assert f'<span class="draft-total">{first["max"] + 5}</span>' in fragment
    assignment = Assignment.get(Assignment.entry == expert_world["entries"]["red"].id)
    assert (assignment.gate, assignment.comment) == ("doubt", "初步意见")
    assert Score.get(Score.assignment == assignment).value == first["max"] + 5

    again = expert_a.get(path).get_data(as_text=True)  # a reload shows the draft
    assert 'value="doubt" checked' in again and "个别表述需核实" in again
    assert f'value="{first["max"] + 5}"' in again and 'value="思路清楚"' in again
    cleared = expert_a.post(f"{path}/review", {**draft, f"score-{first['code']}": ""}, htmx=True)
    assert (
        cleared.status_code == 200
        and not Score.select().where(Score.assignment == assignment).exists()
    )

    typo = expert_a.post(f"{path}/review", {f"score-{first['code']}": "八十"}, htmx=True)
    assert typo.status_code == 422
    problem = typo.get_json()["error"]["fields"][0]
    assert problem["label"] == first["label"] and problem["message"] == "格式不正确"


def test_submit_lists_every_problem_then_submits_and_reopens(expert_a, expert_world):
    campaign = expert_world["campaign"]
    path = entry_path(expert_world, "red")
    expert_a.get(path)
    short = expert_a.post(f"{path}/review/submit", {"gate": "fail", "comment": "太短"}, htmx=True)
    assert short.status_code == 422
    error = short.get_json()["error"]
    labels = {f["label"] for f in error["fields"]}
    assert {"政治性说明", "专家点评"} <= labels
    assert {c["label"] for c in rubric.rubric(campaign)["criteria"]} <= labels
    assert error["message"].startswith("还有 ")
    comment = next(f for f in error["fields"] if f["field"] == "comment")
    assert "已写 2 字，至少 50 字" in comment["message"]

    done = expert_a.post(f"{path}/review/submit", full_form(campaign), htmx=True)
    assert done.status_code == 200
    block = done.get_data(as_text=True)
    assert "总分 <strong>80.0</strong> / 100 分" in block and "撤回提交，重新修改" in block
    assert "<fieldset disabled>" in block and "<html" not in block
    assignment = Assignment.get(Assignment.entry == expert_world["entries"]["red"].id)
    assert assignment.submitted_at is not None
    late_draft = expert_a.post(f"{path}/review", {"comment": "改一下"}, htmx=True)
    assert late_draft.status_code == 409
    assert late_draft.get_json()["error"]["code"] == "review_submitted"
    assert expert_a.post(f"{path}/recuse", {"reason": "认识"}, htmx=True).status_code == 409

    reopened = expert_a.post(f"{path}/review/reopen", htmx=True)
    assert reopened.status_code == 200 and "提交评审" in reopened.get_data(as_text=True)
    assert Assignment.get_by_id(assignment.id).submitted_at is None
    progress = expert_a.get(EXPERT).get_data(as_text=True)
    assert "已提交 <strong>0</strong> / 2 件" in progress and "草稿" in progress


def test_after_the_deadline_the_review_is_read_only(expert_a, expert_world):
    campaign = expert_world["campaign"]
    path = entry_path(expert_world, "red")
    expert_a.get(path)
    assert expert_a.post(f"{path}/review/submit", full_form(campaign), htmx=True).status_code == 200
    Campaign.update(review_closes_at=utcnow() - datetime.timedelta(minutes=1)).where(
        Campaign.id == campaign.id
    ).execute()
    page = expert_a.get(path).get_data(as_text=True)
    assert "<fieldset disabled>" in page and "评审已截止" in page
    assert "撤回提交" not in page and "提交评审</button>" not in page
    refused = expert_a.post(f"{path}/review/reopen", htmx=True)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "review_closed"
    unsubmitted = entry_path(expert_world, "community")
    draft = expert_a.post(f"{unsubmitted}/review", {"comment": "迟到的意见"}, htmx=True)
    assert draft.status_code == 409 and draft.get_json()["error"]["message"] == "评审已截止"
    assert "评审已截止，评分只读" in expert_a.get(EXPERT).get_data(as_text=True)


def test_recusal_needs_a_reason_and_hands_the_entry_over(expert_a, expert_world):
    path = entry_path(expert_world, "community")
    entry = expert_world["entries"]["community"]
    expert_a.get(path)
    bare = expert_a.post(f"{path}/recuse", {"reason": "  "}, htmx=True)
    assert bare.status_code == 422
    assert bare.get_json()["error"]["message"] == "申请回避时请填写回避原因"
    done = expert_a.post(f"{path}/recuse", {"reason": "本人曾在该支部工作"}, htmx=True)
    assert done.status_code == 204
    assert done.headers["HX-Redirect"] == f"{EXPERT}?recused={entry.id}"
    declared = ConflictDeclaration.get(ConflictDeclaration.entry == entry.id)
    assert (declared.kind, declared.reason) == ("recusal", "本人曾在该支部工作")
    holders = {a.expert_id for a in Assignment.select().where(Assignment.entry == entry.id)}
    assert holders == {expert_world["experts"]["c"].id}  # the least-loaded expert took it
    home = expert_a.get(f"{EXPERT}?recused={entry.id}").get_data(as_text=True)
    assert "回避申请已记录" in home and "党建引领社区治理" not in home
    red = expert_world["entries"]["red"].id
    assert "回避申请已记录" not in expert_a.get(f"{EXPERT}?recused={red}").get_data(as_text=True)
    assert expert_a.get(path).status_code == 404


def test_an_entry_not_assigned_is_refused_never_shown(expert_a, expert_world):
    digital = expert_world["entries"]["digital"]
    for path in (entry_path(expert_world, "digital"), f"{EXPERT}/entries/999999"):
        response = expert_a.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == 404
        assert "该案例不存在或未分配给您评审" in page and "数字党建平台建设" not in page
    before = Assignment.get(Assignment.entry == digital.id)
    for action in ("review", "review/submit", "review/reopen", "recuse"):
        refused = expert_a.post(
            f"{entry_path(expert_world, 'digital')}/{action}",
            {**full_form(expert_world["campaign"]), "reason": "x"},
            htmx=True,
        )
        assert refused.status_code == 404, action
    after = Assignment.get(Assignment.entry == digital.id)
    assert (after.comment, after.submitted_at, after.expert_id) == ("", None, before.expert_id)


def test_a_draft_without_the_csrf_token_is_refused(expert_a, expert_world):
    path = entry_path(expert_world, "red")
    expert_a.get(path)
    refused = expert_a.post(f"{path}/review", {"comment": "无令牌"}, htmx=True, csrf=False)
    assert refused.status_code == 403
    assert Assignment.get(Assignment.entry == expert_world["entries"]["red"].id).comment == ""


def forbidden_words(world) -> list[str]:
    """What would tell an expert how an entry came in: routes (codes and labels), the
    departments, endorsement (the word 推荐, the status and its label)."""
    campaign = world["campaign"]
    words = ["推荐", "endorsed", "已推荐", world["dept_d"].name, world["dept_e"].name]
    words += [world["dept_d"].invite_code, world["dept_e"].invite_code]
    for route in options(campaign, "route"):
        words += [route.code, route.label]
    return words


def test_no_expert_page_reveals_route_department_or_endorsement(
    app, expert_a, expert_world, make_account
):
    campaign = expert_world["campaign"]
    organizer = Browser(app.test_client())  # the control: these words are in the data
    make_account("org-control", "organizer")
    organizer.sign_in("org-control")
    control = organizer.get(entry_path(expert_world, "red").replace("/expert", "")).get_data(
        as_text=True
    )
    assert expert_world["dept_d"].name in control and "推荐" in control
    red, digital = entry_path(expert_world, "red"), entry_path(expert_world, "digital")
    pages = {
        "home": expert_a.get(EXPERT),
        "entry": expert_a.get(red),
        "autosave": expert_a.post(f"{red}/review", {"comment": "草稿"}, htmx=True),
        "invalid": expert_a.post(f"{red}/review/submit", {"gate": "pass"}, htmx=True),
        "submitted": expert_a.post(f"{red}/review/submit", full_form(campaign), htmx=True),
        "entry-submitted": expert_a.get(red),
        "reopened": expert_a.post(f"{red}/review/reopen", htmx=True),
        "unassigned": expert_a.get(digital),
        "recused": expert_a.get(f"{EXPERT}?recused=1"),
    }
    words = forbidden_words(expert_world)
    for name, response in pages.items():
        text = response.get_data(as_text=True)
        assert response.status_code < 500 and text, name
        leaked = [w for w in words if w in text]
        assert leaked == [], f"{name} shows {leaked}"


@pytest.mark.browser
def test_in_a_browser_an_expert_scores_with_autosave_submits_and_reopens(page, expert_world):
    """Chromium: sign in, read the entry and its photo, score with autosave across a reload,
    submit, reopen, and be refused an entry that is not assigned; no request leaves the
    service and the CSP is never violated."""
    from playwright.sync_api import expect

    from tests.console.browser import unlabelled

    campaign = expert_world["campaign"]
    criteria = rubric.rubric(campaign)["criteria"]
    page.goto("/console/login")
    page.get_by_label("用户名").fill("expert-a")
    page.get_by_label("密码").fill("console-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="我的评审")).to_be_visible()
    expect(page.locator(".expert-progress")).to_contain_text("已提交 0 / 2 件")
    page.get_by_role("link", name="红色引擎赋能乡村振兴").first.click()
    expect(page.get_by_role("heading", name="红色引擎赋能乡村振兴")).to_be_visible()
    expect(page.get_by_role("img", name="活动现场.png")).to_be_visible()
    # the photo decoded; a locator, as in test_console_browser: wait_for_function's polling
    # needs eval, which the CSP forbids (it failed so once the image was slow to load)
    expect(page.locator(".evidence-img").first).to_have_js_property("naturalWidth", 40)
    assert unlabelled(page) == []

    first = criteria[0]
    score = page.get_by_label(f"{first['label']}（0–{first['max']} 分）")
    score.focus()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.get_by_label("通过", exact=True).check()
    score.fill("20")
    page.get_by_label("专家点评（必填，至少 50 字）").fill("初步意见：做法扎实")
    autosave = page.locator(".autosave-state")
    expect(autosave).to_contain_text("草稿已自动保存")
    expect(page.locator(".draft-total")).to_have_text("20")

    page.reload()  # what was typed is still there: it was saved, not kept in the page
    expect(score).to_have_value("20")
    expect(page.get_by_label("通过", exact=True)).to_be_checked()
    expect(page.get_by_label("专家点评（必填，至少 50 字）")).to_have_value("初步意见：做法扎实")

    page.get_by_role("button", name="提交评审").click()  # incomplete: the 422's message
    expect(page.locator("#flash")).to_contain_text("专家点评")
    for c in criteria[1:]:
        page.get_by_label(f"{c['label']}（0–{c['max']} 分）").fill(str(c["max"] - 2))
    page.get_by_label("专家点评（必填，至少 50 字）").fill("该案例做法扎实、成效明显，" * 6)
    page.get_by_role("button", name="提交评审").click()
    expect(page.locator(".review-state")).to_contain_text("总分")
    expect(page.locator("#flash")).to_be_empty()
    expect(score).to_be_disabled()
    assert Assignment.get(Assignment.entry == expert_world["entries"]["red"].id).submitted_at

    page.get_by_role("button", name="撤回提交，重新修改").click()
    expect(page.get_by_role("button", name="提交评审")).to_be_visible()
    expect(score).to_be_enabled()
    assert (
        Assignment.get(Assignment.entry == expert_world["entries"]["red"].id).submitted_at is None
    )

    page.goto(f"/console/expert/entries/{expert_world['entries']['digital'].id}")
    expect(page.get_by_role("heading", name="该案例不存在或未分配给您评审")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("数字党建平台建设")
    assert page.traffic.foreign() == [], "requests left the service"
    assert page.traffic.csp_violations() == []
