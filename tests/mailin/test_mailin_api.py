"""The mailroom through the organizer API: receive by code (idempotently), tick, note what is
missing, complete; the Excel export never holds a formula."""

import io

from openpyxl import load_workbook

from campaign.mailin import rules
from models import MailIn, Redemption
from tests.factories import Organizer
from tests.mailin.winners import make_winner


def mailin_of(entry) -> MailIn:
    rules.ensure_mailins(entry.campaign)
    return MailIn.get(MailIn.entry == entry)


def test_receive_by_short_code_or_token_once(client, open_window, winner):
    organizer = Organizer(client, open_window)
    mailin = mailin_of(winner)
    typed = f"{mailin.short_code[:4]}-{mailin.short_code[4:]}".lower()
    first = organizer.post("/api/v1/org/mailin/receive", json={"code": typed})
    assert first.status_code == 200
    assert first.get_json()["already_received"] is False
    assert first.get_json()["mailin"]["status"] == "received"
    assert first.get_json()["mailin"]["received_at"].endswith("+08:00")  # campaign time
    again = organizer.post("/api/v1/org/mailin/receive", json={"code": mailin.token})
    assert again.get_json()["already_received"] is True
    assert again.get_json()["mailin"]["received_at"] == first.get_json()["mailin"]["received_at"]
    unknown = organizer.post("/api/v1/org/mailin/receive", json={"code": "ZZZZ-ZZZZ"})
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "unknown_code"
    assert organizer.post("/api/v1/org/mailin/receive", json={"code": ["x"]}).status_code == 404


def test_the_api_and_the_scan_engine_agree_on_who_received_first(client, open_window, winner):
    """Receiving through the API is a scan: the org redeem endpoint then answers
    `already_redeemed` naming the first receipt; a retried request with its nonce answers
    the same and records nothing new."""
    organizer = Organizer(client, open_window)
    mailin = mailin_of(winner)
    body = {"code": mailin.short_code, "nonce": "api-1"}
    first = organizer.post("/api/v1/org/mailin/receive", json=body)
    retried = organizer.post("/api/v1/org/mailin/receive", json=body)
    assert first.get_json()["already_received"] is False
    assert retried.get_json()["already_received"] is False  # the same scan, answered again
    assert Redemption.select().where(Redemption.kind == "mailin").count() == 1
    scan = {"code": mailin.token, "nonce": "desk-1"}
    answered = organizer.post("/api/v1/org/redeem", json=scan)
    assert answered.status_code == 409
    refusal = answered.get_json()["error"]
    assert refusal["code"] == "already_redeemed" and "签收" in refusal["message"]
    assert refusal["first"]["by"] == MailIn.get_by_id(mailin.id).received_by


def test_checklist_incomplete_complete(client, open_window, winner):
    organizer = Organizer(client, open_window)
    mailin = mailin_of(winner)
    base = f"/api/v1/org/mailin/{mailin.id}"
    early = organizer.post(f"{base}/checklist", json={"items": {"text": True}})
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "not_received"
    organizer.post("/api/v1/org/mailin/receive", json={"code": mailin.short_code})
    ticked = organizer.post(f"{base}/checklist", json={"items": {"stamped_form": True}})
    assert {i["code"]: i["ticked"] for i in ticked.get_json()["checklist"]}["stamped_form"]
    bad = organizer.post(f"{base}/incomplete", json={"missing": ["seal"], "note": 5})
    assert bad.status_code == 422
    assert [f["field"] for f in bad.get_json()["error"]["fields"]] == ["missing", "note"]
    missing = organizer.post(f"{base}/incomplete", json={"missing": ["text"], "note": "缺文字材料"})
    assert missing.get_json()["status"] == "incomplete"
    refused = organizer.post(f"{base}/complete")
    assert refused.status_code == 409
    assert refused.get_json()["error"]["fields"][0]["field"] == "items.text"
    organizer.post(f"{base}/checklist", json={"items": {"text": True}})
    done = organizer.post(f"{base}/complete", json={})
    assert done.status_code == 200 and done.get_json()["status"] == "complete"
    listed = organizer.get("/api/v1/org/mailin?status=complete").get_json()
    assert [i["id"] for i in listed["items"]] == [mailin.id]
    assert listed["counts"] == {"awaiting": 0, "received": 0, "incomplete": 0, "complete": 1}
    assert organizer.get("/api/v1/org/mailin?status=lost").status_code == 422
    assert organizer.post("/api/v1/org/mailin/999999/complete").status_code == 404


def test_export_lists_every_winner_and_never_a_formula(client, open_window):
    organizer = Organizer(client, open_window)
    hostile = make_winner(open_window, title='=HYPERLINK("http://evil.example","点我")')
    make_winner(open_window, title="+1 普通标题")
    response = organizer.get("/api/v1/org/mailin/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data))["邮寄材料"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("编码", "单位", "地区") and len(rows) == 3
    titles = {row[5] for row in rows[1:]}
    assert titles == {"'" + hostile.title, "'+1 普通标题"}
    for row in sheet.iter_rows(min_row=2):
        assert all(cell.data_type != "f" for cell in row)
