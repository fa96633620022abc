"""The entry rules called as plain functions: create, save a draft, check, submit, withdraw,
delete. The HTTP tests show the wire; these pin the rules themselves, edge by edge."""

import datetime

import pytest

from campaign.entries import operations, status
from campaign.problems import Invalid
from models import (
    AuditLog,
    Campaign,
    Department,
    Entry,
    EntryRevision,
    LateCode,
    StatusChange,
    Unit,
    WechatUser,
    utcnow,
)
from tests.factories import COMPLETE, UNIT, entry_row


def attach_evidence(entry: Entry) -> None:
    from models import Attachment

    Attachment.create(entry=entry, kind="press", link="https://news.example.cn/a")


@pytest.fixture
def complete(open_window):
    """A complete draft with one piece of evidence and a full unit profile: submittable."""
    entry = entry_row(open_window, "o-unit", **COMPLETE)
    Unit.update(**UNIT).where(Unit.id == entry.unit_id).execute()
    attach_evidence(entry)
    return Entry.get_by_id(entry.id)


def close_window(campaign: Campaign, days_ago: int = 1) -> None:
    closes = utcnow() - datetime.timedelta(days=days_ago)
    Campaign.update(closes_at=closes).where(Campaign.id == campaign.id).execute()


def fresh(entry: Entry) -> Entry:
    """Re-read the entry and its campaign (rules read `entry.campaign`)."""
    return Entry.get_by_id(entry.id)


def codes(problems: list[dict]) -> set[tuple[str, str]]:
    return {(p["field"], p["code"]) for p in problems}


def late_code(campaign, code="L-OK", department=None, **fields) -> LateCode:
    values = {"expires_at": utcnow() + datetime.timedelta(days=2), "created_by": "org:1"}
    return LateCode.create(
        campaign=campaign, department=department, code=code, **{**values, **fields}
    )


# --- create_entry --------------------------------------------------------------------------


def test_a_new_entry_is_stamped_with_the_first_touch_and_keeps_a_revision(open_window):
    user = WechatUser.create(app="wxa", openid="o-new")
    unit = Unit.create(campaign=open_window, owner=user, **UNIT)
    entry = operations.create_entry(
        open_window, user, unit, {"title": "标题", "status": "awarded", "route": "org_dept"}
    )
    assert (entry.title, entry.status, entry.route) == ("标题", "draft", "online")
    assert EntryRevision.get(EntryRevision.entry == entry).data["title"] == "标题"
    audit = AuditLog.get(AuditLog.action == "entry.create")
    assert audit.after == {"title": "标题"}  # only editable fields were taken
    assert audit.actor == f"user:{user.id}"


def test_a_new_entry_follows_the_department_the_user_came_through(open_window):
    from campaign.attribution import attribute
    from models import Channel

    department = Department.create(
        campaign=open_window, name="某县委组织部", route="org_dept", invite_code="inv1"
    )
    channel = Channel.create(
        campaign=open_window, department=department, route="org_dept", code="chan0001"
    )
    user = WechatUser.create(app="wxa", openid="o-dept")
    attribute(open_window, user, channel)
    unit = Unit.create(campaign=open_window, owner=user, **UNIT)
    entry = operations.create_entry(open_window, user, unit, {})
    assert (entry.route, entry.department_id, entry.channel_id) == (
        "org_dept",
        department.id,
        channel.id,
    )


# --- ensure_editable and late codes -----------------------------------------------------------


def test_an_open_draft_is_editable(complete):
    operations.ensure_editable(complete)  # no exception


@pytest.mark.parametrize(
    "change, code",
    [
        ({"status": "under_review"}, "not_editable"),
        ({"stage": "review"}, "stage_closed"),
    ],
)
def test_locked_entries_say_why(complete, change, code):
    if "status" in change:
        Entry.update(**change).where(Entry.id == complete.id).execute()
    else:
        Campaign.update(**change).where(Campaign.id == complete.campaign_id).execute()
    with pytest.raises(operations.EntryLocked) as caught:
        operations.ensure_editable(fresh(complete))
    assert caught.value.code == code and caught.value.status == 409


def test_before_the_window_and_after_the_deadline(complete):
    campaign = complete.campaign
    with pytest.raises(operations.EntryLocked) as early:
        operations.ensure_editable(complete, now=campaign.opens_at - datetime.timedelta(seconds=1))
    assert early.value.code == "not_open"
    last_second = operations.deadline(campaign) - datetime.timedelta(microseconds=1)
    operations.ensure_editable(complete, now=last_second)
    with pytest.raises(operations.EntryLocked) as late:
        operations.ensure_editable(complete, now=operations.deadline(campaign))
    assert late.value.code == "deadline_passed"


def test_grace_minutes_move_the_deadline(complete):
    Campaign.update(grace_minutes=30).where(Campaign.id == complete.campaign_id).execute()
    campaign = fresh(complete).campaign
    in_grace = campaign.closes_at + datetime.timedelta(minutes=20)
    operations.ensure_editable(fresh(complete), now=in_grace)
    assert operations.collection_open(campaign, in_grace)
    assert not operations.collection_open(
        campaign, campaign.closes_at + datetime.timedelta(hours=1)
    )


def test_a_live_late_code_reopens_an_entry_after_the_deadline(complete):
    after = operations.deadline(complete.campaign) + datetime.timedelta(hours=1)
    late_code(complete.campaign, expires_at=after + datetime.timedelta(hours=1))
    operations.ensure_editable(complete, now=after, late_code="L-OK")
    with pytest.raises(operations.EntryLocked):
        operations.ensure_editable(complete, now=after, late_code="L-NOPE")


def test_late_codes_that_do_not_cover_the_entry_are_not_found(complete):
    campaign = complete.campaign
    mine = Department.create(campaign=campaign, name="甲", route="org_dept", invite_code="a1")
    other = Department.create(campaign=campaign, name="乙", route="org_dept", invite_code="b1")
    Entry.update(department=mine).where(Entry.id == complete.id).execute()
    entry = fresh(complete)
    late_code(campaign, "L-OTHER", department=other)
    late_code(campaign, "L-MINE", department=mine)
    late_code(campaign, "L-OLD", expires_at=utcnow() - datetime.timedelta(minutes=1))
    late_code(campaign, "L-USED", uses=1, max_uses=1)
    assert operations.find_late_code(entry, "L-OTHER") is None
    assert operations.find_late_code(entry, "L-OLD") is None
    assert operations.find_late_code(entry, "L-USED") is None
    assert operations.find_late_code(entry, "") is None
    assert operations.find_late_code(entry, "L-MINE").code == "L-MINE"


# --- save_draft ---------------------------------------------------------------------------------


def test_a_draft_saves_anything_and_bumps_its_version(complete):
    saved = operations.save_draft(complete, {"abstract": "短", "title": "新"}, "user:1")
    assert (saved.abstract, saved.title, saved.version) == ("短", "新", complete.version + 1)
    assert EntryRevision.select().where(EntryRevision.entry == complete).count() == 1
    assert not AuditLog.select().where(AuditLog.action == "entry.edit_after_submit").exists()


def test_saving_the_same_values_changes_nothing(complete):
    same = operations.save_draft(complete, {"title": complete.title, "status": "awarded"}, "u")
    assert same.version == complete.version
    assert fresh(complete).status == "draft"
    assert EntryRevision.select().count() == 0


def test_only_the_last_revisions_are_kept(complete):
    entry = complete
    for n in range(operations.KEEP_REVISIONS + 3):
        entry = operations.save_draft(entry, {"title": f"版本{n}"}, "u")
    revisions = EntryRevision.select().where(EntryRevision.entry == entry)
    assert revisions.count() == operations.KEEP_REVISIONS
    titles = {r.data["title"] for r in revisions}
    assert f"版本{operations.KEEP_REVISIONS + 2}" in titles and "版本0" not in titles


def test_an_edit_after_submit_is_audited_with_before_and_after(complete):
    submitted = operations.submit(complete, "user:1")
    operations.save_draft(submitted, {"title": "改过的标题"}, "user:1")
    audit = AuditLog.get(AuditLog.action == "entry.edit_after_submit")
    assert audit.before == {"title": COMPLETE["title"]}
    assert audit.after == {"title": "改过的标题"}


def test_a_locked_entry_refuses_a_draft_save(complete):
    close_window(complete.campaign)
    with pytest.raises(operations.EntryLocked) as caught:
        operations.save_draft(fresh(complete), {"title": "迟到"}, "u")
    assert caught.value.code == "deadline_passed"
    assert fresh(complete).title == COMPLETE["title"]


# --- check_submission -------------------------------------------------------------------------


def test_a_complete_entry_has_no_problems(complete):
    assert operations.check_submission(complete) == []


def test_every_problem_is_listed_at_once(open_window):
    entry = entry_row(
        open_window,
        "o-bad",
        track="poem",
        domain="",
        themes=["development", "nope"],
        title="题" * 61,
        abstract="短" * 10,
        background="",
        approach="做法",
        results="",
        significance="意义",
    )
    found = operations.check_submission(entry)
    assert codes(found) == {
        ("track", "invalid_choice"),
        ("domain", "required"),
        ("themes", "invalid_choice"),
        ("title", "too_long"),
        ("abstract", "too_short"),
        ("background", "required"),
        ("results", "required"),
        ("unit", "unit_incomplete"),
        ("attachments", "evidence_missing"),
    }
    by_field = {p["field"]: p for p in found}
    assert by_field["abstract"]["count"] == 10 and by_field["abstract"]["min"] == 200
    assert by_field["themes"]["value"] == "nope"
    assert "name" not in by_field["unit"]["missing"]  # entry_row names the unit
    assert "contact_phone" in by_field["unit"]["missing"]
    assert all(p["message"] for p in found)


def test_a_body_too_long_is_one_problem_on_the_body(complete):
    Entry.update(results="成" * 3000).where(Entry.id == complete.id).execute()
    found = operations.check_submission(fresh(complete))
    assert codes(found) == {("body", "too_long")}
    assert found[0]["max"] == 5000


def test_no_themes_at_all_is_required(complete):
    Entry.update(themes=[]).where(Entry.id == complete.id).execute()
    assert codes(operations.check_submission(fresh(complete))) == {("themes", "required")}


def test_after_the_deadline_the_window_is_a_problem_and_a_bad_late_code_says_so(complete):
    close_window(complete.campaign)
    entry = fresh(complete)
    assert codes(operations.check_submission(entry)) == {("deadline", "deadline_passed")}
    assert codes(operations.check_submission(entry, "L-NOPE")) == {
        ("late_code", "late_code_invalid")
    }


# --- submit --------------------------------------------------------------------------------------


def test_submit_moves_the_entry_with_a_trail(complete):
    submitted = operations.submit(complete, "user:7")
    stored = fresh(complete)
    assert stored.status == "submitted" and submitted.status == "submitted"
    assert stored.content_check == "pending" and stored.submitted_at is not None
    change = StatusChange.get(StatusChange.entry == complete.id)
    assert (change.from_status, change.to_status, change.actor) == ("draft", "submitted", "user:7")
    assert AuditLog.get(AuditLog.action == "entry.status").after["status"] == "submitted"


def test_an_invalid_entry_is_not_moved(open_window):
    entry = entry_row(open_window, "o-empty")
    with pytest.raises(Invalid) as caught:
        operations.submit(entry, "u")
    assert caught.value.status == 422 and len(caught.value.problems) > 1
    assert caught.value.message.startswith(f"有 {len(caught.value.problems)} 处需要修改")
    assert fresh(entry).status == "draft"
    assert StatusChange.select().count() == 0


def test_after_the_deadline_the_message_says_the_deadline_passed(complete):
    close_window(complete.campaign)
    with pytest.raises(Invalid) as caught:
        operations.submit(fresh(complete), "u")
    assert caught.value.message == "已过征集截止时间"


@pytest.mark.parametrize("current", ["submitted", "endorsed", "under_review"])
def test_submit_from_a_status_that_cannot_submit_is_an_illegal_transition(complete, current):
    Entry.update(status=current).where(Entry.id == complete.id).execute()
    with pytest.raises(status.IllegalTransition) as caught:
        operations.submit(fresh(complete), "u")
    assert (caught.value.current, caught.value.target) == (current, "submitted")
    assert StatusChange.select().count() == 0


@pytest.mark.parametrize("current", ["returned", "withdrawn"])
def test_returned_and_withdrawn_entries_can_be_submitted_again(complete, current):
    Entry.update(status=current).where(Entry.id == complete.id).execute()
    assert operations.submit(fresh(complete), "u").status == "submitted"


def test_a_late_code_is_spent_once_on_submit(complete):
    close_window(complete.campaign)
    late_code(complete.campaign, max_uses=1)
    operations.submit(fresh(complete), "user:1", late_code="L-OK")
    assert LateCode.get(LateCode.code == "L-OK").uses == 1
    assert StatusChange.get(StatusChange.entry == complete.id).note == "late code L-OK"
    second = entry_row(complete.campaign, "o-second", **COMPLETE)
    Unit.update(**UNIT).where(Unit.id == second.unit_id).execute()
    attach_evidence(second)
    with pytest.raises(Invalid) as caught:
        operations.submit(fresh(second), "user:2", late_code="L-OK")
    assert codes(caught.value.problems) == {("late_code", "late_code_invalid")}
    assert fresh(second).status == "draft"


def test_a_late_code_is_not_spent_before_the_deadline(complete):
    late_code(complete.campaign)
    operations.submit(complete, "u", late_code="L-OK")
    assert LateCode.get(LateCode.code == "L-OK").uses == 0
    assert StatusChange.get(StatusChange.entry == complete.id).note == ""


# --- withdraw and delete ------------------------------------------------------------------------


def test_withdraw_then_resubmit(complete):
    submitted = operations.submit(complete, "u")
    withdrawn = operations.withdraw(submitted, "u")
    assert fresh(complete).status == "withdrawn" == withdrawn.status
    assert StatusChange.get(StatusChange.to_status == "withdrawn").note == "withdrawn by the unit"
    assert operations.submit(withdrawn, "u").status == "submitted"


def test_no_withdrawing_after_the_deadline(complete):
    submitted = operations.submit(complete, "u")
    close_window(complete.campaign)
    with pytest.raises(operations.EntryLocked) as caught:
        operations.withdraw(fresh(submitted), "u")
    assert caught.value.code == "deadline_passed"
    assert fresh(complete).status == "submitted"


def test_a_withdrawn_entry_cannot_be_withdrawn_again(complete):
    withdrawn = operations.withdraw(operations.submit(complete, "u"), "u")
    with pytest.raises(status.IllegalTransition):
        operations.withdraw(withdrawn, "u")


def test_a_draft_is_deleted_with_an_audit_row(complete):
    operations.delete_draft(complete, "user:1")
    assert Entry.get_or_none(Entry.id == complete.id) is None
    audit = AuditLog.get(AuditLog.action == "entry.delete")
    assert audit.before == {"status": "draft", "title": COMPLETE["title"]}
    assert audit.object_id == str(complete.id)


def test_a_submitted_entry_cannot_be_deleted(complete):
    submitted = operations.submit(complete, "u")
    with pytest.raises(operations.EntryLocked) as caught:
        operations.delete_draft(submitted, "u")
    assert caught.value.code == "not_deletable"
    assert Entry.get_or_none(Entry.id == complete.id) is not None


def test_counts_measure_each_element_and_the_body(complete):
    measured = operations.counts(complete)
    assert measured["abstract"] == 250
    assert measured["elements"] == {
        "background": 800,
        "approach": 900,
        "results": 800,
        "significance": 700,
    }
    assert measured["body"] == 3200
