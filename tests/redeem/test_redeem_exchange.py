"""The offline exchange: sessions, winners' registrations, the waiting list, tickets, badges
and the attendance sheet, through the organizer's and the unit's APIs."""

import datetime
import io
import re

import pypdfium2 as pdfium
from openpyxl import load_workbook
from redeem_fixtures import person, session_of, together, winner

from campaign.redeem import engine
from models import AuditLog, ExchangeSession, utcnow
from tests.channel_fixtures import decode_qr, error_code
from tests.factories import Organizer

ME = "/api/v1/me/exchange"
ORG = "/api/v1/org/exchange"


def as_unit(client, token, method, path, **kwargs):
    return getattr(client, method)(path, headers={"Authorization": f"Bearer {token}"}, **kwargs)


def test_an_organizer_creates_and_edits_a_session(client, campaign):
    organizer = Organizer(client, campaign)
    body = {
        "title": "线下交流会（福州）",
        "place": "福州市某某会议中心",
        "starts_at": "2021-12-20T09:00:00",
        "capacity": 120,
        "seats_per_unit": 2,
    }
    created = organizer.post(f"{ORG}/sessions", json=body)
    assert created.status_code == 201, created.get_json()
    session = created.get_json()
    assert session["starts_at"] == "2021-12-20T09:00:00+08:00"  # campaign time without offset
    assert (session["seats_left"], session["registered"]) == (120, 0)
    changed = organizer.patch(f"{ORG}/sessions/{session['id']}", json={"place": "厦门"})
    assert changed.get_json()["place"] == "厦门"
    listed = organizer.get(f"{ORG}/sessions").get_json()["items"]
    assert [item["id"] for item in listed] == [session["id"]]
    assert AuditLog.select().where(AuditLog.action.startswith("exchange.session")).count() == 2


def test_every_problem_of_a_session_is_listed_at_once(client, campaign):
    organizer = Organizer(client, campaign)
    body = {"place": 5, "starts_at": "tomorrow", "capacity": 0, "seats_per_unit": True}
    response = organizer.post(f"{ORG}/sessions", json=body)
    assert response.status_code == 422
    fields = {p["field"]: p["code"] for p in response.get_json()["error"]["fields"]}
    assert fields == {
        "title": "required",
        "place": "invalid_type",
        "starts_at": "invalid_datetime",
        "capacity": "out_of_range",
        "seats_per_unit": "out_of_range",
    }
    ends_first = {"title": "t", "starts_at": "2021-12-20T09:00", "ends_at": "2021-12-20T08:00"}
    response = organizer.post(f"{ORG}/sessions", json={**ends_first, "capacity": 5})
    assert response.get_json()["error"]["fields"][0]["code"] == "ends_before_start"


def test_a_winner_registers_up_to_its_seats(client, campaign):
    session = session_of(campaign, capacity=10, seats_per_unit=2)
    _, token = winner(campaign)
    for number in (1, 2):
        body = {"session": session.id, **person(number)}
        response = as_unit(client, token, "post", f"{ME}/attendees", json=body)
        assert response.status_code == 201, response.get_json()
        attendee = response.get_json()
        assert attendee["status"] == "registered" and attendee["ticket"]["valid"] is True
        assert attendee["phone"] == f"138****{number:04d}"
    third = as_unit(
        client, token, "post", f"{ME}/attendees", json={"session": session.id, **person(3)}
    )
    assert (third.status_code, error_code(third)) == (409, "unit_seats_full")
    mine = as_unit(client, token, "get", f"{ME}/attendees").get_json()["items"]
    assert [a["name"] for a in mine] == ["参会人1", "参会人2"]
    sessions = as_unit(client, token, "get", f"{ME}/sessions").get_json()
    assert sessions["eligible"] is True and sessions["items"][0]["seats_left"] == 8
    assert sessions["items"][0]["accepting"] is True


def test_only_winners_register_and_fields_are_checked(client, campaign):
    session = session_of(campaign)
    _, loser = winner(campaign, openid="o-loser", award=False)
    body = {"session": session.id, **person()}
    refused = as_unit(client, loser, "post", f"{ME}/attendees", json=body)
    assert (refused.status_code, error_code(refused)) == (409, "not_a_winner")
    assert as_unit(client, loser, "get", f"{ME}/sessions").get_json()["eligible"] is False
    _, token = winner(campaign)
    bad = as_unit(
        client, token, "post", f"{ME}/attendees", json={"session": session.id, "phone": "12"}
    )
    fields = {p["field"]: p["code"] for p in bad.get_json()["error"]["fields"]}
    assert fields == {"name": "required", "phone": "invalid_phone"}
    missing = as_unit(
        client, token, "post", f"{ME}/attendees", json={"session": 999999, **person()}
    )
    assert missing.get_json()["error"]["fields"][0]["field"] == "session"


def test_a_full_session_waits_and_a_freed_seat_goes_to_the_first_waiting(client, campaign):
    session = session_of(campaign, capacity=1, seats_per_unit=3)
    _, token = winner(campaign)
    answers = [
        as_unit(client, token, "post", f"{ME}/attendees", json={"session": session.id, **person(n)})
        for n in (1, 2, 3)
    ]
    seated, first_waiting, second_waiting = (r.get_json() for r in answers)
    assert [seated["status"], first_waiting["status"], second_waiting["status"]] == [
        "registered",
        "waiting",
        "waiting",
    ]
    assert first_waiting["ticket"]["valid"] is False
    cancelled = as_unit(client, token, "delete", f"{ME}/attendees/{seated['id']}")
    assert cancelled.get_json()["status"] == "cancelled" and cancelled.get_json()["ticket"] is None
    statuses = {
        a["id"]: a["status"]
        for a in as_unit(client, token, "get", f"{ME}/attendees").get_json()["items"]
    }
    assert statuses[first_waiting["id"]] == "registered"
    assert statuses[second_waiting["id"]] == "waiting"
    again = as_unit(client, token, "delete", f"{ME}/attendees/{seated['id']}")
    assert (again.status_code, error_code(again)) == (409, "already_cancelled")


def test_processes_racing_for_the_last_seats_never_overfill_the_session(campaign, settings):
    session = session_of(campaign, capacity=2, seats_per_unit=10)
    unit, _ = winner(campaign)
    commands = [["register", str(session.id), str(unit.id), f"人{n}"] for n in range(6)]
    answers = together(settings.database_url, commands)
    assert sorted(a["status"] for a in answers) == ["registered"] * 2 + ["waiting"] * 4


def test_a_larger_capacity_seats_the_waiting_and_a_smaller_one_cannot_unseat(client, campaign):
    session = session_of(campaign, capacity=1, seats_per_unit=3)
    _, token = winner(campaign)
    for n in (1, 2):
        as_unit(client, token, "post", f"{ME}/attendees", json={"session": session.id, **person(n)})
    organizer = Organizer(client, campaign)
    grown = organizer.patch(f"{ORG}/sessions/{session.id}", json={"capacity": 2}).get_json()
    assert (grown["registered"], grown["waiting"]) == (2, 0)
    shrunk = organizer.patch(f"{ORG}/sessions/{session.id}", json={"capacity": 1})
    assert shrunk.get_json()["error"]["fields"][0]["code"] == "below_seated"


def test_closed_or_started_sessions_take_no_registrations(client, campaign):
    _, token = winner(campaign)
    closed = session_of(campaign, registration_open=False)
    begun = session_of(campaign, starts_at=utcnow() - datetime.timedelta(minutes=1))
    for session in (closed, begun):
        body = {"session": session.id, **person()}
        response = as_unit(client, token, "post", f"{ME}/attendees", json=body)
        assert (response.status_code, error_code(response)) == (409, "registration_closed")
    listed = as_unit(client, token, "get", f"{ME}/sessions").get_json()["items"]
    assert {s["id"]: s["accepting"] for s in listed} == {closed.id: False, begun.id: False}


def test_the_ticket_page_and_png_carry_the_ticket_and_the_door_reads_them(client, campaign):
    session = session_of(campaign)
    _, token = winner(campaign)
    attendee = as_unit(
        client, token, "post", f"{ME}/attendees", json={"session": session.id, **person()}
    ).get_json()
    png = as_unit(client, token, "get", f"{ME}/attendees/{attendee['id']}/ticket.png")
    assert png.mimetype == "image/png"
    assert decode_qr(png.data) == [attendee["ticket"]["url"]]
    page = client.get(f"/tickets/{attendee['ticket']['code']}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    html = page.get_data(as_text=True)
    assert "参会人1" in html and "线下交流会" in html and "<svg" in html and "已报名" in html
    assert "13800000001" not in html  # no phone on the page
    assert client.get("/tickets/AAAAAAAAAAAAAAAAAAAAAA").status_code == 404
    assert engine.redeem(decode_qr(png.data)[0], "n", None, "door").status == engine.REDEEMED
    assert "签到" in client.get(f"/tickets/{attendee['ticket']['code']}").get_data(as_text=True)


def test_badges_are_one_per_seated_attendee_eight_per_page(client, campaign):
    session = session_of(campaign, capacity=9, seats_per_unit=10)
    _, token = winner(campaign)
    for n in range(10):
        as_unit(client, token, "post", f"{ME}/attendees", json={"session": session.id, **person(n)})
    organizer = Organizer(client, campaign)
    response = organizer.get(f"{ORG}/sessions/{session.id}/badges.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b", response.data)) == 2  # 9 seated: 8 + 1
    pages = pdfium.PdfDocument(response.data)
    seated = organizer.get(f"{ORG}/sessions/{session.id}/attendees").get_json()["items"]
    urls = [a["ticket"]["url"] for a in seated if a["status"] == "registered"]
    read = [sorted(decode_qr(_png(page.render(scale=2).to_pil()))) for page in pages]
    assert read == [sorted(urls[:8]), urls[8:]]  # every badge's QR opens its own ticket


def test_the_attendance_sheet_shows_who_came_and_defuses_formulas(client, campaign):
    session = session_of(campaign, capacity=5, seats_per_unit=5)
    _, token = winner(campaign, name='=HYPERLINK("http://evil")')
    people = [{**person(1), "name": "+SUM(A1)"}, {**person(2), "name": "王五"}]
    made = [
        as_unit(
            client, token, "post", f"{ME}/attendees", json={"session": session.id, **p}
        ).get_json()
        for p in people
    ]
    engine.redeem(made[1]["ticket"]["code"], "n-1", None, "door")
    organizer = Organizer(client, campaign)
    response = organizer.get(f"{ORG}/sessions/{session.id}/attendance.xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[1][:3] == ("序号", "姓名", "单位")
    first, second = rows[2], rows[3]
    assert first[1] == "'+SUM(A1)" and first[2] == '\'=HYPERLINK("http://evil")'
    assert first[4] == "138****0001" and first[6] in (None, "")
    assert second[1] == "王五" and second[6]


def test_an_organizer_cancels_an_attendee(client, campaign):
    session = session_of(campaign, capacity=1, seats_per_unit=3)
    _, token = winner(campaign)
    seated, waiting = (
        as_unit(
            client, token, "post", f"{ME}/attendees", json={"session": session.id, **person(n)}
        ).get_json()
        for n in (1, 2)
    )
    organizer = Organizer(client, campaign)
    assert (
        organizer.post(f"{ORG}/attendees/{seated['id']}/cancel").get_json()["status"] == "cancelled"
    )
    listed = organizer.get(f"{ORG}/sessions/{session.id}/attendees").get_json()["items"]
    assert {a["id"]: a["status"] for a in listed}[waiting["id"]] == "registered"
    assert ExchangeSession.get_by_id(session.id).capacity == 1


def _png(image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_control_characters_in_names_are_refused(client, campaign):
    organizer = Organizer(client, campaign)
    body = {"title": "交流\x00会", "starts_at": "2030-12-20T09:00", "capacity": 5}
    response = organizer.post(f"{ORG}/sessions", json=body)
    assert response.status_code == 400  # the strict JSON reader refuses NUL first
    assert response.get_json()["error"]["code"] == "invalid_text"
    tab = organizer.post(f"{ORG}/sessions", json={**body, "title": "交流\x07会"})
    assert tab.get_json()["error"]["fields"][0]["code"] == "invalid_characters"
