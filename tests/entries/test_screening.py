"""Organizers' decisions on flagged entries, called directly: content verdicts, merged units,
late codes. Each decision writes its audit row in the same transaction as the change."""

import datetime

import pytest

from campaign.entries import screening
from campaign.entries.operations import find_late_code
from models import AuditLog, Department, Entry, LateCode, Unit, utcnow
from tests.factories import entry_row, other_campaign


@pytest.mark.parametrize("decision, verdict", [("release", "cleared"), ("block", "blocked")])
def test_a_content_decision_sets_the_verdict_and_is_audited(campaign, decision, verdict):
    entry = entry_row(campaign, "o-1", status="submitted", content_check="risky")
    decided = screening.decide_content(entry, decision, "org:1", note="人工复核")
    assert decided.content_check == verdict == Entry.get_by_id(entry.id).content_check
    audit = AuditLog.get(AuditLog.action == "entry.content_decision")
    assert audit.before == {"content_check": "risky"}
    assert audit.after == {"content_check": verdict, "note": "人工复核"}
    assert (audit.actor, audit.campaign_id) == ("org:1", campaign.id)


def test_an_unknown_decision_changes_nothing(campaign):
    entry = entry_row(campaign, "o-1", content_check="risky")
    with pytest.raises(KeyError):
        screening.decide_content(entry, "maybe", "org:1")
    assert Entry.get_by_id(entry.id).content_check == "risky"
    assert AuditLog.select().count() == 0


def test_a_decision_whose_audit_fails_is_rolled_back(campaign, monkeypatch):
    entry = entry_row(campaign, "o-1", content_check="risky")

    def broken(*args, **kwargs):
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(screening, "record", broken)
    with pytest.raises(RuntimeError):
        screening.decide_content(entry, "release", "org:1")
    assert Entry.get_by_id(entry.id).content_check == "risky"


def test_merging_units_moves_every_entry_and_marks_the_source(campaign):
    first = entry_row(campaign, "o-1")
    second = entry_row(campaign, "o-1b")
    Entry.create(
        campaign=campaign, unit=first.unit, owner=first.owner, route="online", title="另一篇"
    )
    target = screening.merge_units(first.unit, second.unit, "org:1")
    assert target.id == second.unit_id
    assert Entry.select().where(Entry.unit == second.unit_id).count() == 3
    assert Unit.get_by_id(first.unit_id).merged_into_id == second.unit_id
    audit = AuditLog.get(AuditLog.action == "unit.merge")
    assert audit.after == {"into": second.unit_id, "entries": 2}
    assert audit.object_id == str(first.unit_id)


def test_a_unit_cannot_merge_into_itself_or_another_campaign(campaign):
    entry = entry_row(campaign, "o-1")
    with pytest.raises(ValueError):
        screening.merge_units(entry.unit, entry.unit, "org:1")
    stranger = entry_row(other_campaign(campaign), "o-2")
    with pytest.raises(ValueError):
        screening.merge_units(entry.unit, stranger.unit, "org:1")
    assert Unit.get_by_id(entry.unit_id).merged_into_id is None
    assert AuditLog.select().count() == 0


def test_an_issued_late_code_is_usable_by_its_department_only(campaign):
    department = Department.create(campaign=campaign, name="甲", route="org_dept", invite_code="a")
    other = Department.create(campaign=campaign, name="乙", route="org_dept", invite_code="b")
    expires = utcnow() + datetime.timedelta(days=3)
    late = screening.issue_late_code(campaign, department, expires, 2, "补报", "org:1")
    assert late.code.startswith("L-") and len(late.code) == 10
    assert set(late.code[2:]) <= set(screening.LATE_CODE_ALPHABET)
    assert (late.max_uses, late.uses, late.created_by) == (2, 0, "org:1")
    mine = entry_row(campaign, "o-1", department=department)
    theirs = entry_row(campaign, "o-2", department=other)
    assert find_late_code(mine, late.code).id == late.id
    assert find_late_code(theirs, late.code) is None
    audit = AuditLog.get(AuditLog.action == "late_code.issue")
    assert audit.after == {"department": department.id, "max_uses": 2}


def test_a_late_code_for_every_department(campaign):
    expires = utcnow() + datetime.timedelta(days=1)
    late = screening.issue_late_code(campaign, None, expires, 1, "", "org:1")
    assert LateCode.get_by_id(late.id).department_id is None
    assert AuditLog.get(AuditLog.action == "late_code.issue").after["department"] is None
    codes = {screening.issue_late_code(campaign, None, expires, 1, "", "o").code for _ in range(5)}
    assert len(codes) == 5
