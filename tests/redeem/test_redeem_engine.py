"""The scan engine's pretix semantics, in one process and across eight real ones."""

import datetime

import pytest
from redeem_fixtures import many_tickets, session_of, ticket, together, winner

from campaign.redeem import engine, exchange
from models import AuditLog, Redemption

AT = datetime.datetime(2021, 12, 1, 1, 30)


def test_first_scan_redeems_and_checks_the_attendee_in(campaign):
    attendee = ticket(campaign)
    answer = engine.redeem(attendee.ticket_code, "n-1", AT, "account:1", actor_name="李四")
    assert answer.status == engine.REDEEMED
    assert answer.target.label["name"] == attendee.name
    assert answer.redemption.scanned_at == AT and answer.redemption.first is True
    assert exchange.check_ins([attendee.id]) == {attendee.id: AT}
    engine.redeem(attendee.ticket_code, "n-2", AT + datetime.timedelta(hours=1), "account:1")
    assert exchange.check_ins([attendee.id]) == {attendee.id: AT}  # the first scan counts


def test_the_same_nonce_again_is_the_same_success_and_creates_nothing(campaign):
    code = ticket(campaign).ticket_code
    first = engine.redeem(code, "n-1", AT, "account:1")
    again = engine.redeem(code, "n-1", AT + datetime.timedelta(minutes=5), "account:2")
    assert again.status == engine.REDEEMED
    assert again.redemption.id == first.redemption.id
    assert again.redemption.by == "account:1"
    assert Redemption.select().count() == 1


def test_another_nonce_answers_already_redeemed_with_the_first_time_and_who(campaign):
    code = ticket(campaign).ticket_code
    engine.redeem(code, "n-1", AT, "account:1", actor_name="李四")
    answer = engine.redeem(code, "n-2", AT + datetime.timedelta(hours=1), "account:2")
    assert answer.status == engine.ALREADY_REDEEMED
    assert (answer.redemption.scanned_at, answer.redemption.by_name) == (AT, "李四")
    assert Redemption.select().count() == 1


def test_force_records_an_audited_override_once_per_nonce(campaign):
    code = ticket(campaign).ticket_code
    engine.redeem(code, "n-1", AT, "account:1")
    forced = engine.redeem(code, "n-2", AT, "account:2", force=True)
    replay = engine.redeem(code, "n-2", AT, "account:2", force=True)
    assert forced.status == replay.status == engine.REDEEMED
    assert forced.redemption.forced and forced.redemption.first is None
    assert replay.redemption.id == forced.redemption.id
    assert Redemption.select().count() == 2
    audit = AuditLog.get(AuditLog.action == "redeem.force")
    assert (audit.actor, audit.after["refusal"]) == ("account:2", "already_redeemed")


def test_a_cancelled_ticket_is_refused_unless_forced(campaign):
    attendee = ticket(campaign)
    exchange.cancel(attendee, "test")
    with pytest.raises(engine.ScanRefused) as refused:
        engine.redeem(attendee.ticket_code, "n-1", AT, "account:1")
    assert refused.value.code == "ticket_cancelled"
    assert Redemption.select().count() == 0
    forced = engine.redeem(attendee.ticket_code, "n-1", AT, "account:1", force=True)
    assert forced.redemption.forced and forced.redemption.first is True
    assert AuditLog.get(AuditLog.action == "redeem.force").after["refusal"] == "ticket_cancelled"


def test_a_replay_of_a_scan_accepted_before_a_cancellation_is_still_the_same_success(campaign):
    attendee = ticket(campaign)
    first = engine.redeem(attendee.ticket_code, "n-1", AT, "account:1")
    exchange.cancel(attendee, "test")
    again = engine.redeem(attendee.ticket_code, "n-1", AT, "account:1")
    assert (again.status, again.redemption.id) == (engine.REDEEMED, first.redemption.id)
    with pytest.raises(engine.ScanRefused):
        engine.redeem(attendee.ticket_code, "n-2", AT, "account:1")


def test_a_waiting_ticket_has_no_seat_yet(campaign):
    session = session_of(campaign, capacity=1)
    unit, _ = winner(campaign)
    ticket(campaign, unit, session)
    waiting = exchange.register(session, unit, {"name": "候补", "phone": "13900000000"}, "t")
    assert waiting.status == exchange.WAITING
    with pytest.raises(engine.ScanRefused) as refused:
        engine.redeem(waiting.ticket_code, "n-1", AT, "account:1")
    assert refused.value.code == "ticket_waiting"


def test_unknown_codes_and_other_campaigns_codes_are_unknown(campaign):
    code = ticket(campaign).ticket_code
    for unknown in ("", "   ", "no-such-ticket-code", "x" * 600):
        with pytest.raises(engine.UnknownCode):
            engine.redeem(unknown, "n-1", AT, "account:1")
    with pytest.raises(engine.UnknownCode):
        engine.redeem(code, "n-1", AT, "account:1", campaign_id=campaign.id + 1)


def test_the_ticket_page_url_in_the_qr_is_read_as_its_code(campaign):
    code = ticket(campaign).ticket_code
    url = f"https://campaign.example.cn/tickets/{code}\n"
    assert engine.redeem(url, "n-1", AT, "account:1").status == engine.REDEEMED
    assert engine.redeem(code, "n-2", AT, "account:1").status == engine.ALREADY_REDEEMED


def test_a_batch_answers_each_scan(campaign):
    codes = many_tickets(campaign, 3)
    scans = [
        {"code": codes[0], "nonce": "a"},
        {"code": codes[0], "nonce": "b"},
        {"code": "unknown-code-xyz", "nonce": "c"},
        {"code": codes[1], "nonce": "d", "datetime": AT},
    ]
    answers = engine.redeem_batch(scans, "account:1")
    assert [getattr(a, "status", type(a).__name__) for a in answers] == [
        "redeemed",
        "already_redeemed",
        "UnknownCode",
        "redeemed",
    ]


def test_eight_processes_scanning_one_code_redeem_it_exactly_once(campaign, settings):
    """Eight real processes, released at once, each with its own nonce: one `redeemed`."""
    code = ticket(campaign).ticket_code
    commands = [["scan", code, f"nonce-{n}"] for n in range(8)]
    answers = together(settings.database_url, commands)
    statuses = sorted(answer["status"] for answer in answers)
    assert statuses == ["already_redeemed"] * 7 + ["redeemed"]
    assert len({answer["id"] for answer in answers}) == 1  # all name the one first scan
    assert Redemption.select().count() == 1
