"""Entry statuses move only along the machine, once, with a trail."""

import pytest

from campaign.entries import status
from models import AuditLog, Entry, StatusChange, Unit, WechatUser


@pytest.fixture
def entry(campaign):
    user = WechatUser.create(app="wxa", openid="o-unit")
    unit = Unit.create(campaign=campaign, owner=user, name="某村党支部")
    return Entry.create(campaign=campaign, unit=unit, owner=user, route="online")


def test_a_legal_move_is_logged_twice(entry):
    status.move(entry, status.SUBMITTED, actor="user:1", note="提交")
    assert Entry.get_by_id(entry.id).status == "submitted"
    change = StatusChange.get(StatusChange.entry == entry.id)
    assert (change.from_status, change.to_status, change.actor) == ("draft", "submitted", "user:1")
    audit = AuditLog.get(AuditLog.object_type == "entry")
    assert audit.before == {"status": "draft"}
    assert audit.after["status"] == "submitted"


@pytest.mark.parametrize(
    "path",
    [
        ["awarded"],
        ["under_review"],
        ["submitted", "shortlisted"],
        ["submitted", "withdrawn", "endorsed"],
    ],
)
def test_illegal_moves_are_refused(entry, path):
    *legal, illegal = path
    for target in legal:
        status.move(entry, target, actor="t")
    before = StatusChange.select().count()
    with pytest.raises(status.IllegalTransition):
        status.move(entry, illegal, actor="t")
    assert Entry.get_by_id(entry.id).status == (legal[-1] if legal else "draft")
    assert StatusChange.select().count() == before


def test_a_stale_copy_cannot_move_twice(entry):
    """Two requests that both saw `draft` cannot both submit."""
    stale = Entry.get_by_id(entry.id)
    status.move(entry, status.SUBMITTED, actor="first")
    with pytest.raises(status.IllegalTransition) as caught:
        status.move(stale, status.WITHDRAWN, actor="second")
    assert caught.value.current == "submitted"
    assert StatusChange.select().count() == 1


def test_every_status_has_a_chinese_label_and_is_reachable():
    assert set(status.LABELS) == set(status.STATUSES)
    reachable = {status.DRAFT}
    frontier = [status.DRAFT]
    while frontier:
        for target in status.TRANSITIONS[frontier.pop()]:
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == set(status.STATUSES)
