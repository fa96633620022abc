"""The review rules one at a time, against the real database: experts, conflicts, pre-flight,
runs, hand-made pairs, the rubric, scores, the leniency model, decisions and comments."""

import datetime

import pytest

from campaign.review import board, comments, decisions, experts, rubric, runs, scores
from campaign.review.assignment import violations
from campaign.review.refusals import Invalid, Refused
from models import (
    Assignment,
    AuditLog,
    Campaign,
    Decision,
    Entry,
    ExpertProfile,
    StatusChange,
    WechatUser,
    utcnow,
)
from tests.review.review_world import full_review, seed


@pytest.fixture
def world(open_window, wechat, settings):
    data = seed(open_window, wechat, settings, entries=24, experts=6)
    decisions.open_review(open_window, "test")
    data["campaign"] = Campaign.get_by_id(open_window.id)
    return data


def publish_now(campaign):
    run = runs.create_run(campaign, "test")
    runs.publish(run, "test")
    return run


def test_invite_lists_every_problem_at_once(campaign):
    with pytest.raises(Invalid) as caught:
        experts.invite(campaign, {"username": "x", "domains": ["nowhere"], "cap": 0}, "test")
    fields = {p["field"] for p in caught.value.problems}
    assert fields == {"username", "display_name", "domains", "cap"}


def test_an_expert_binds_wechat_with_a_one_time_code(campaign):
    profile, _ = experts.invite(
        campaign, {"username": "exp1", "display_name": "专家", "domains": ["rural"]}, "test"
    )
    code = experts.issue_bind_code(profile)
    user = WechatUser.create(app="wxa", openid="o-exp")
    assert experts.bind_wechat(code, user).wechat_user_id == user.id
    with pytest.raises(Refused):
        experts.bind_wechat(code, user)


def test_structural_conflicts_are_never_assigned(world):
    campaign = world["campaign"]
    run = publish_now(campaign)
    instance = runs.build_instance(campaign)
    assert violations(instance, [tuple(p) for p in run.pairs]) == []
    in_department = world["experts"][0]["account"].id  # works in the parent department
    for assignment in Assignment.select().where(Assignment.expert == in_department):
        assert assignment.entry.department_id is None
    same_unit = world["experts"][1]["account"]
    unit = same_unit.expert_profiles[0].unit_id
    assert (
        not Assignment.select()
        .join(Entry)
        .where((Assignment.expert == same_unit.id) & (Entry.unit == unit))
        .exists()
    )


def test_preflight_says_the_shortfall_in_words(world):
    campaign = world["campaign"]
    ExpertProfile.update(cap=2).execute()
    report = runs.preflight(campaign)
    assert not report["feasible"]
    short = [d for d in report["domains"] if d["short"]]
    assert short and all(f"还差 {d['short']} 个专家评审名额" in d["message"] for d in short)
    assert short[0]["message"].startswith(short[0]["label"])


def test_a_stale_draft_is_refused_and_a_published_one_cannot_publish_twice(world):
    campaign = world["campaign"]
    first = runs.create_run(campaign, "test")
    runs.publish(first, "test")
    with pytest.raises(Refused, match="run_not_draft"):
        runs.publish(runs.AssignmentRun.get_by_id(first.id), "test")
    draft = runs.create_run(campaign, "test")
    assignment = Assignment.select().order_by(Assignment.id).first()
    scores.recuse(assignment, "回避", "test")
    with pytest.raises(Refused) as caught:
        runs.publish(draft, "test")
    assert caught.value.code == "run_stale"


def test_a_rerun_keeps_everything_when_nothing_changed(world):
    campaign = world["campaign"]
    publish_now(campaign)
    again = runs.create_run(campaign, "test")
    live = Assignment.select().count()
    assert live > 50 and runs.diff(again) == {"added": [], "removed": [], "kept": live}


def test_hand_made_pairs_are_checked_against_the_hard_rules(world):
    campaign = world["campaign"]
    publish_now(campaign)
    blocked = world["experts"][0]["account"].id
    department_entry = next(e for e in world["entries"] if e.department_id)
    with pytest.raises(Refused) as caught:
        runs.add_pair(campaign, blocked, department_entry.id, "test")
    assert caught.value.code in ("conflict", "domain_mismatch", "duplicate")
    with pytest.raises(Invalid):
        runs.add_pair(campaign, "x", None, "test")
    assignment = Assignment.select().first()
    Assignment.update(submitted_at=utcnow()).where(Assignment.id == assignment.id).execute()
    with pytest.raises(Refused, match="review_submitted"):
        runs.remove_pair(Assignment.get_by_id(assignment.id), "test")


def test_weights_must_sum_to_100_and_freeze_when_review_opens(campaign):
    weights = rubric.review_settings(campaign)["weights"]
    assert list(weights.values()) == [25, 20, 20, 20, 15] and "political" not in weights
    with pytest.raises(Invalid) as caught:
        rubric.configure(campaign, {"weights": dict.fromkeys(weights, 10)}, "test")
    assert caught.value.problems[0]["code"] == "weights_total"
    changed = rubric.configure(campaign, {"weights": dict.fromkeys(weights, 20)}, "test")
    assert [c["max"] for c in changed["criteria"]] == [20] * 5
    Campaign.update(review_opens_at=utcnow()).execute()
    with pytest.raises(Refused, match="review_open"):
        rubric.configure(Campaign.get_by_id(campaign.id), {"weights": weights}, "test")


def test_submit_checks_ranges_gate_remark_and_comment_length(world):
    campaign = world["campaign"]
    publish_now(campaign)
    assignment = Assignment.select().first()
    weights = rubric.review_settings(campaign)["weights"]
    body = full_review(weights, 80, gate="doubt") | {"gate_remark": "", "comment": "太短"}
    body["scores"]["operability"] = 99
    with pytest.raises(Invalid) as caught:
        scores.submit(assignment, body, "test")
    codes = {(p["field"], p["code"]) for p in caught.value.problems}
    assert codes == {
        ("scores.operability", "out_of_range"),
        ("gate_remark", "required"),
        ("comment", "too_short"),
    }
    saved = Assignment.get_by_id(assignment.id)
    assert saved.submitted_at is None and saved.comment == "太短", "the draft was kept"


def test_the_offset_model_recovers_each_experts_leniency():
    """Three experts see overlapping entries; expert 2 scores 6 points high, expert 3 4 low."""
    offsets = {1: 0.0, 2: 6.0, 3: -4.0}
    quality = {e: 60 + 3 * e for e in range(1, 31)}
    reviews = [
        (entry, expert, quality[entry] + offsets[expert], "pass")
        for entry in quality
        for expert in offsets
        if (entry + expert) % 3 != 0 or expert == 1
    ]
    fitted, bias = board.leniency(reviews, shrinkage=0.0)
    centre = sum(bias.values()) / 3
    assert {x: round(b - centre, 1) for x, b in bias.items()} == pytest.approx(
        {x: round(o - sum(offsets.values()) / 3, 1) for x, o in offsets.items()}, abs=0.2
    )
    assert board.leniency_words(5.1, 20) == "平均比其他专家高 5.1 分"
    assert board.leniency_words(-3.25, 20) == "平均比其他专家低 3.2 分"
    assert "仅供参考" in board.leniency_words(0.2, 3)


def test_the_gate_sends_one_fail_or_two_doubts_to_the_chair():
    assert board.gate_state(["pass", "fail", "pass"]) == "chair"
    assert board.gate_state(["doubt", "doubt", "pass"]) == "chair"
    assert board.gate_state(["doubt", "pass", "pass"]) == "doubt"


def score_everything(campaign, base=70):
    weights = rubric.review_settings(campaign)["weights"]
    for assignment in Assignment.select():
        scores.submit(assignment, full_review(weights, base + assignment.entry_id % 20), "test")


def test_apply_moves_every_status_or_none(world):
    campaign = world["campaign"]
    publish_now(campaign)
    score_everything(campaign)
    entries = list(Entry.select().order_by(Entry.id))
    for entry in entries:
        decisions.stage(entry, "shortlisted", "", "test")
    Entry.update(status="withdrawn").where(Entry.id == entries[-1].id).execute()  # behind our back
    before = StatusChange.select().count()
    with pytest.raises(Refused) as caught:
        decisions.apply(campaign, "test")
    assert caught.value.fields[0]["field"] == f"entries.{entries[-1].id}"
    assert StatusChange.select().count() == before
    assert not Entry.select().where(Entry.status == "shortlisted").exists()
    assert Decision.select().where(Decision.state == "applied").count() == 0


def test_over_quota_needs_a_reason_which_is_audited(world):
    campaign = world["campaign"]
    Campaign.update(quotas={"brand": 1, "case": 1}).execute()
    publish_now(campaign)
    score_everything(campaign)
    cases = [e for e in Entry.select().order_by(Entry.id) if e.track == "case"][:2]
    for entry in cases:
        decisions.stage(entry, "shortlisted", "", "test")
    decisions.apply(campaign, "test")
    decisions.stage(Entry.get_by_id(cases[0].id), "case", "", "test")
    with pytest.raises(Invalid) as caught:
        decisions.stage(Entry.get_by_id(cases[1].id), "case", "", "test")
    assert caught.value.problems[0] | {"message": ""} == {
        "field": "reason", "code": "over_quota", "message": "", "target": 1, "taken": 1,
    }  # fmt: skip
    decisions.stage(Entry.get_by_id(cases[1].id), "case", "质量突出", "test")
    audit = AuditLog.select().where(AuditLog.action == "decision.stage").order_by(AuditLog.id)
    assert audit[-1].after["over_quota"] and audit[-1].after["reason"] == "质量突出"


def test_published_comment_only_for_awarded_entries(world):
    campaign = world["campaign"]
    publish_now(campaign)
    score_everything(campaign)
    entry = Entry.select().order_by(Entry.id).first()
    assert comments.published_comment(entry.id) is None
    with pytest.raises(Refused, match="not_awarded"):
        comments.publish_comment(entry, {"text": "好"}, "test")
    decisions.stage(entry, "shortlisted", "", "test")
    decisions.apply(campaign, "test")
    decisions.stage(Entry.get_by_id(entry.id), entry.track, "", "test")
    sources = [a.id for a in entry.assignments]
    shown = comments.publish_comment(entry, {"text": "综合点评", "sources": sources}, "test")
    assert shown == {"text": "综合点评", "attribution": "专家组点评"}


def test_an_expert_reopens_only_before_the_deadline(world):
    campaign = world["campaign"]
    publish_now(campaign)
    score_everything(campaign)
    assignment = Assignment.select().first()
    Campaign.update(review_closes_at=utcnow() - datetime.timedelta(seconds=1)).execute()
    assignment = Assignment.get_by_id(assignment.id)
    with pytest.raises(Refused, match="review_closed"):
        scores.reopen(assignment, "expert", by_organizer=False)
    assert scores.reopen(assignment, "organizer", by_organizer=True).submitted_at is None


def test_a_rerun_never_touches_entries_that_left_review(world):
    """A shortlisted entry's reviews (submitted or not) stay when the pool is solved again."""
    campaign = world["campaign"]
    publish_now(campaign)
    weights = rubric.review_settings(campaign)["weights"]
    entry = Entry.select().order_by(Entry.id).first()
    mine = list(entry.assignments)
    scores.submit(mine[0], full_review(weights, 80), "test")
    decisions.stage(entry, "shortlisted", "", "test")
    decisions.apply(campaign, "test")
    before = {(a.expert_id, a.submitted_at is not None) for a in entry.assignments}
    rerun = runs.create_run(campaign, "test")
    assert entry.id not in rerun.params["entries"]
    runs.publish(rerun, "test")
    assert {(a.expert_id, a.submitted_at is not None) for a in entry.assignments} == before


def test_result_messages_use_the_template_of_their_kind(world, wechat, settings):
    """Awarded units get the `awarded` template; the not-selected fall back to `result`."""
    from models import MessageTemplate, Notice
    from tests.review.review_world import FIELDS, KEYS

    campaign = world["campaign"]
    wechat.state.add_template(settings.wxa.appid, "tpl-awarded", keys=KEYS)
    awarded = MessageTemplate.create(
        campaign=campaign, purpose="awarded", channel="wxa_subscribe",
        template_id="tpl-awarded", title="入选", fields=FIELDS,
    )  # fmt: skip
    for entry in Entry.select().order_by(Entry.id)[:2]:
        decisions.stage(entry, "shortlisted", "", "test")
    decisions.apply(campaign, "test")
    first, second = (Entry.get_by_id(e.id) for e in Entry.select().order_by(Entry.id)[:2])
    decisions.stage(first, first.track, "", "test")
    decisions.stage(second, "none", "", "test")
    result = decisions.apply(campaign, "test")
    purposes = {
        n.auto_key.rsplit(":", 1)[1]: n.template.purpose
        for n in Notice.select().where(Notice.id.in_(result["notices"]))
    }
    assert purposes == {"awarded": "awarded", "not_selected": "result"}
    assert awarded.id in {n.template_id for n in Notice.select()}


def test_the_same_database_gives_the_same_assignment(world):
    campaign = world["campaign"]
    first, second = runs.create_run(campaign, "a"), runs.create_run(campaign, "b")
    assert first.pairs == second.pairs and first.stats == second.stats | {
        "solve_ms": first.stats["solve_ms"]
    }


def test_an_entry_no_expert_may_take_is_reported_not_forced(world):
    """Every rural expert declares a conflict with one rural entry: the pre-flight names it,
    and the run leaves it short instead of breaking the rule."""
    from campaign.review import conflicts

    campaign = world["campaign"]
    entry = next(e for e in world["entries"] if e.domain == "rural")
    for profile in experts.profiles(campaign):
        if "rural" in profile.domains:
            conflicts.declare(profile, {"entry": entry.id}, "test")
    report = runs.preflight(campaign)
    assert entry.id in report["short_entries"] and not report["feasible"]
    run = runs.create_run(campaign, "test")
    assert entry.id not in {e for _, e in run.pairs}


def test_review_reminders_reach_experts_with_unfinished_reviews_only(world):
    """The existing reminder audience (experts, review_pending) reads the live assignment."""
    from campaign.notices.audiences import recipients

    campaign = world["campaign"]
    audience = {"group": "experts", "status": ["review_pending"]}
    assert recipients(campaign, audience) == [], "nothing published, nobody to remind"
    publish_now(campaign)
    everyone = sorted(e["account"].wechat_user_id for e in world["experts"])
    busy = {a.expert_id for a in Assignment.select()}
    expected = sorted(
        e["account"].wechat_user_id for e in world["experts"] if e["account"].id in busy
    )
    assert recipients(campaign, audience) == expected and set(expected) <= set(everyone)
    done = world["experts"][2]["account"]
    assert done.id in busy and done.wechat_user_id in expected
    weights = rubric.review_settings(campaign)["weights"]
    for assignment in Assignment.select().where(Assignment.expert == done.id):
        scores.submit(assignment, full_review(weights, 75), "test")
    assert done.wechat_user_id not in recipients(campaign, audience)
