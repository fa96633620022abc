"""Mail-in rules: awaiting → received → incomplete (with what is missing) → complete."""

import pytest

from campaign.mailin import rules
from campaign.notices.audiences import check_audience, recipients
from models import AuditLog, Entry, MailIn
from tests.mailin.winners import make_winner


def only(campaign) -> rules.Winner:
    (found,) = rules.winners(campaign)
    return found


def test_every_winner_gets_one_mail_in_with_a_token_and_a_short_code(open_window, winner):
    loser = make_winner(open_window)
    Entry.update(status="not_selected").where(Entry.id == loser.id).execute()
    assert rules.ensure_mailins(open_window) == 1
    assert rules.ensure_mailins(open_window) == 0
    found = only(open_window)
    assert found.entry.id == winner.id and found.award == "brand"
    assert found.award_label == "新时代党建品牌"
    assert len(found.mailin.token) >= 22 and rules.SHORT_CODE.match(found.mailin.short_code)
    assert MailIn.select().count() == 1


def test_a_code_finds_its_mail_in_however_it_is_typed(open_window, winner):
    mailin = only(open_window).mailin
    code = mailin.short_code
    for typed in (code, code.lower(), f"{code[:4]}-{code[4:]}", f" {code[:4]} {code[4:]} "):
        assert rules.find_by_code(open_window, typed).id == mailin.id, typed
    assert rules.find_by_code(open_window, mailin.token).id == mailin.id
    for wrong in ("", "ABCDEFGH", mailin.token + "x", None, 42, "x" * 100):
        assert rules.find_by_code(open_window, wrong) is None


def test_receiving_twice_changes_nothing_the_second_time(open_window, winner):
    mailin = only(open_window).mailin
    first, changed = rules.mark_received(mailin.id, "account:1")
    assert changed and first.status == "received" and first.received_by == "account:1"
    again, changed_again = rules.mark_received(mailin.id, "account:2")
    assert not changed_again
    assert (again.status, again.received_by, again.received_at) == (
        "received", "account:1", first.received_at,
    )  # fmt: skip
    assert AuditLog.select().where(AuditLog.action == "mailin.received").count() == 1


def test_incomplete_with_what_is_missing_then_complete(open_window, winner):
    mailin = only(open_window).mailin
    with pytest.raises(rules.MailInRefused) as refused:
        rules.tick(mailin, {"stamped_form": True}, "a")
    assert refused.value.code == "not_received"
    mailin, _ = rules.mark_received(mailin.id, "a")
    mailin = rules.tick(mailin, {"stamped_form": True, "text": True, "photos": True}, "a")
    mailin = rules.mark_incomplete(mailin, ["press", "text"], "缺少报道复印件", "a")
    assert mailin.status == "incomplete" and mailin.missing == ["text", "press"]
    assert mailin.checklist["text"] is False and mailin.checklist["photos"] is True
    with pytest.raises(rules.MailInRefused) as refused:
        rules.mark_complete(mailin, None, "a")
    assert refused.value.code == "required_missing"
    assert [p["field"] for p in refused.value.problems] == ["items.text"]
    mailin = rules.tick(mailin, {"text": True}, "a")
    mailin = rules.mark_complete(mailin, "", "a")
    assert mailin.status == "complete" and mailin.missing == [] and mailin.completed_by == "a"
    assert mailin.note == "缺少报道复印件"
    mailin = rules.tick(mailin, {"video": True}, "a")
    assert mailin.status == "complete"
    mailin = rules.tick(mailin, {"stamped_form": False}, "a")
    assert (mailin.status, mailin.completed_at) == ("received", None)


def test_every_problem_is_listed_at_once(open_window, winner):
    mailin, _ = rules.mark_received(only(open_window).mailin.id, "a")
    with pytest.raises(rules.MailInInvalid) as invalid:
        rules.tick(mailin, {"stamps": True, "text": "yes"}, "a")
    assert [(p["field"], p["code"]) for p in invalid.value.problems] == [
        ("items.stamps", "invalid_choice"), ("items.text", "invalid_type"),
    ]  # fmt: skip
    with pytest.raises(rules.MailInInvalid) as invalid:
        rules.mark_incomplete(mailin, [], "x" * 501, "a")
    assert [p["code"] for p in invalid.value.problems] == ["required", "too_long"]


def test_a_stale_status_is_refused_not_overwritten(open_window, winner):
    mailin, _ = rules.mark_received(only(open_window).mailin.id, "a")
    rules.mark_incomplete(MailIn.get_by_id(mailin.id), ["video"], None, "clerk 1")
    with pytest.raises(rules.MailInRefused) as refused:
        rules.tick(mailin, {"video": True}, "clerk 2")  # still thinks it is `received`
    assert refused.value.code == "conflict"


def test_reminders_go_to_winners_not_yet_received_or_incomplete(open_window):
    people = {}
    for state in ("awaiting", "received", "incomplete", "complete"):
        entry = make_winner(open_window)
        people[entry.owner_id] = state
        rules.ensure_mailins(open_window)
        MailIn.update(status=state).where(MailIn.entry == entry).execute()
    audience, problems = check_audience(open_window, {"status": ["mailin_pending"]})
    assert problems == []
    reached = {people[user_id] for user_id in recipients(open_window, audience)}
    assert reached == {"awaiting", "incomplete"}
