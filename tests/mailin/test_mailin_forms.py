"""The winner's forms as a unit downloads them: real text in the PDFs (CJK included), a cover
QR a scanner reads back to the token, a DOCX Word opens with the fields filled in."""

import io

import pypdfium2
import zxingcpp
from docx import Document
from pypdf import PdfReader

from models import MailIn, Unit
from tests.mailin.winners import bearer, make_winner


def pdf_pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def qr_codes_on(content: bytes, page: int = 0) -> list[str]:
    """Render the page at 150 dpi, as a printed sheet under a scanner, and read its QR codes."""
    document = pypdfium2.PdfDocument(content)
    try:
        image = document[page].render(scale=150 / 72).to_pil()
    finally:
        document.close()
    return [result.text for result in zxingcpp.read_barcodes(image)]


def download(client, winner, path):
    response = client.get(f"/api/v1/me/mailin/{path}", headers=bearer(winner.owner))
    assert response.status_code == 200, response.get_json()
    return response


def test_the_registration_form_pdf_holds_the_fields_as_text(client, winner):
    response = download(client, winner, "form.pdf")
    assert response.mimetype == "application/pdf"
    assert "filename*=UTF-8''%E7%99%BB%E8%AE%B0%E8%A1%A8" in response.headers["Content-Disposition"]
    (page,) = pdf_pages(response.data)
    code = MailIn.get(MailIn.entry == winner).short_code
    for expected in ("登记表", "单位名称", winner.unit.name, "林晓", "13800000000",
                     "“红色驿站”近邻服务品牌", "新时代党建品牌", "城市基层党建",
                     f"{code[:4]}-{code[4:]}", "单位意见（盖章）"):  # fmt: skip
        assert expected in page, expected


def test_the_cover_sheet_qr_decodes_to_the_token_and_the_short_code_is_printed(client, winner):
    content = download(client, winner, "cover.pdf").data
    mailin = MailIn.get(MailIn.entry == winner)
    assert qr_codes_on(content) == [mailin.token]
    cover, form = pdf_pages(content)
    assert f"编码 {mailin.short_code[:4]}-{mailin.short_code[4:]}" in cover
    address = "福州市鼓屏路192号山海大厦北楼12层人民网福建频道"
    for expected in ("报名表（登记表）加盖单位公章", "影像资料", "媒体报道复印件", address,
                     "350003", "孟建清"):  # fmt: skip
        assert expected in cover, expected
    assert winner.unit.name in form and "登记表" in form


def test_the_docx_opens_with_the_fields_filled_in(client, winner):
    response = download(client, winner, "form.docx")
    document = Document(io.BytesIO(response.data))
    (table,) = document.tables
    fields = {row.cells[0].text: row.cells[1].text for row in table.rows}
    assert fields["单位名称"] == winner.unit.name
    assert fields["案例名称"] == "“红色驿站”近邻服务品牌"
    assert fields["入选类别"] == "新时代党建品牌"
    assert fields["联系人"] == "林晓" and fields["联系电话"] == "13800000000"
    assert "登记表" in [p.text for p in document.paragraphs]


def test_several_winning_entries_need_the_entry_named(client, open_window, winner):
    second = make_winner(open_window, unit=Unit.get_by_id(winner.unit_id), title="第二个案例")
    headers = bearer(winner.owner)
    response = client.get("/api/v1/me/mailin/form.pdf", headers=headers)
    assert response.status_code == 422
    (field,) = response.get_json()["error"]["fields"]
    assert field["field"] == "entry" and sorted(field["choices"]) == [winner.id, second.id]
    chosen = client.get(f"/api/v1/me/mailin/cover.pdf?entry={second.id}", headers=headers)
    assert chosen.status_code == 200
    assert qr_codes_on(chosen.data) == [MailIn.get(MailIn.entry == second).token]
    other = client.get("/api/v1/me/mailin/form.pdf?entry=999999", headers=headers)
    assert other.status_code == 404


def test_status_shows_the_checklist_and_what_is_missing(client, open_window, winner):
    from campaign.mailin import rules

    assert not MailIn.select().exists()  # created on the first look
    listed = client.get("/api/v1/me/mailin", headers=bearer(winner.owner)).get_json()["items"]
    assert [(i["status"], i["entry"]["id"]) for i in listed] == [("awaiting", winner.id)]
    assert "token" not in listed[0]
    cover = listed[0]["downloads"]["cover.pdf"]
    assert cover == f"/api/v1/me/mailin/cover.pdf?entry={winner.id}"
    assert client.get(cover, headers=bearer(winner.owner)).status_code == 200
    mailin = MailIn.get(MailIn.entry == winner)
    received, _ = rules.mark_received(mailin.id, "account:1")
    rules.mark_incomplete(received, ["stamped_form"], "报名表未盖章", "account:1")
    (item,) = client.get("/api/v1/me/mailin", headers=bearer(winner.owner)).get_json()["items"]
    assert item["status"] == "incomplete" and item["status_label"] == "材料不全"
    assert item["missing"] == [{"code": "stamped_form", "label": "报名表（登记表）加盖单位公章"}]
    assert item["note"] == "报名表未盖章"


def test_a_unit_without_a_winner_has_nothing_to_download(client, open_window):
    loser = make_winner(open_window)
    loser.status = "not_selected"
    loser.save()
    headers = bearer(loser.owner)
    assert client.get("/api/v1/me/mailin", headers=headers).get_json() == {"items": []}
    assert client.get("/api/v1/me/mailin/cover.pdf", headers=headers).status_code == 404
