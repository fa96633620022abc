"""A winner's registration form (登记表, PDF and DOCX) and mail-in cover sheet (PDF with QR).

The PDF is generated whole with fpdf2 — never an AcroForm filled with Chinese, which viewers
show blank (REVIEW-NOTES §6.1) — with real, searchable text in a per-document font subset
(`drawing.pdffont`). The DOCX is built with python-docx for units that edit in Word or WPS;
its Chinese runs name 宋体/黑体, the fonts every Chinese Word and WPS install has. The cover
sheet's QR carries only the opaque token; the short code is printed beside it for when a
scanner will not read a crumpled envelope.
"""

import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from fpdf import FPDF

from campaign.mailin.forms import FormData
from drawing.pdffont import FONT, render
from drawing.qrdraw import qr_matrix

LABEL_WIDTH = 32  # mm
QR_SIDE = 60  # mm: well over the 25 mm a phone needs at arm's length
BODY_FONT, HEADING_FONT = "宋体", "黑体"
LITERALS = (
    "登记表单位意见（盖章）年月日入选材料寄送封面签收扫码（收件方使用）编码单位案例入选类别"
    "材料清单（请逐项核对后寄出）收件地址邮编收件人电话：　"
)


def new_pdf(title: str) -> FPDF:
    """An A4 document in millimetres with our metadata (the font is added by `render`)."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title(title)
    pdf.set_creator("campaign")
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_margins(20, 18, 20)
    return pdf


def form_text(form: FormData) -> str:
    """Every character the form and cover sheet show, for their font subset."""
    fields = [part for row in form.rows() for part in row]
    values = [form.campaign_title, form.organizer, form.address, form.postcode, form.recipient,
              form.recipient_phones, *form.checklist, *fields]  # fmt: skip
    return "".join(values) + LITERALS


def registration_pdf(form: FormData) -> bytes:
    """The pre-filled 登记表: a two-column table, then the space for the unit's stamp."""
    return render(
        lambda: new_pdf(f"{form.campaign_title} 登记表"),
        lambda pdf: _form_page(pdf, form),
        form_text(form),
    )


def _form_page(pdf: FPDF, form: FormData) -> None:
    pdf.add_page()
    pdf.set_font(FONT, size=16)
    pdf.multi_cell(0, 9, form.campaign_title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=20)
    pdf.cell(0, 14, "登记表", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=11)
    with pdf.table(
        col_widths=(LABEL_WIDTH, pdf.epw - LABEL_WIDTH),
        first_row_as_headings=False,
        line_height=7,
        text_align=("CENTER", "LEFT"),
        wrapmode="CHAR",
        padding=2,
    ) as table:
        for label, value in form.rows():
            table.row((label, value or "—"))
    pdf.ln(6)
    pdf.cell(0, 8, "单位意见（盖章）：", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(28)
    pdf.cell(0, 8, "年        月        日", align="R", new_x="LMARGIN", new_y="NEXT")


def cover_pdf(form: FormData) -> bytes:
    """The cover sheet to tape on the package (QR, short code, what is inside, where to),
    followed by the registration form, so one print-out is everything to send."""
    return render(
        lambda: new_pdf(f"{form.campaign_title} 材料寄送封面"),
        lambda pdf: (_cover_page(pdf, form), _form_page(pdf, form)),
        form_text(form),
    )


def _cover_page(pdf: FPDF, form: FormData) -> None:
    pdf.add_page()
    pdf.set_font(FONT, size=14)
    pdf.multi_cell(0, 8, form.campaign_title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=22)
    pdf.cell(0, 14, "入选材料寄送封面", align="C", new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y() + 4
    draw_qr(pdf, form.token, (pdf.w - QR_SIDE) / 2, top, QR_SIDE)
    pdf.set_y(top + QR_SIDE + 3)
    pdf.set_font(FONT, size=11)
    pdf.cell(0, 6, "签收扫码（收件方使用）", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=24)
    pdf.cell(0, 13, f"编码 {form.printed_code}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=12)
    for label, value in (("单位", form.unit_name), ("案例", form.entry_title),
                         ("入选类别", form.award)):  # fmt: skip
        pdf.multi_cell(0, 7, f"{label}：{value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.cell(0, 8, "材料清单（请逐项核对后寄出）：", new_x="LMARGIN", new_y="NEXT")
    for item in form.checklist:
        y = pdf.get_y()
        pdf.rect(pdf.l_margin + 2, y + 1.8, 3.6, 3.6)
        pdf.set_x(pdf.l_margin + 8)
        pdf.cell(0, 7, item, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    address = f"收件地址：{form.address}　邮编：{form.postcode}"
    pdf.multi_cell(0, 7, address, new_x="LMARGIN", new_y="NEXT")
    who = f"收件人：{form.organizer} {form.recipient}　电话：{form.recipient_phones}"
    pdf.multi_cell(0, 7, who, new_x="LMARGIN", new_y="NEXT")


def draw_qr(pdf: FPDF, text: str, left: float, top: float, side: float) -> None:
    """A vector QR: one filled rectangle per horizontal run of dark modules, on white."""
    matrix = qr_matrix(text)
    module = side / len(matrix)
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(left, top, side, side, style="F")
    pdf.set_fill_color(0, 0, 0)
    for row_index, row in enumerate(matrix):
        start = None
        for column, dark in enumerate([*row, False]):
            if dark and start is None:
                start = column
            elif not dark and start is not None:
                x, y = left + start * module, top + row_index * module
                pdf.rect(x, y, (column - start) * module, module, style="F")
                start = None


def registration_docx(form: FormData) -> bytes:
    """The same 登记表 as an editable Word document."""
    document = Document()
    set_east_asian(document.styles["Normal"], BODY_FONT, 11)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    centered(document, form.campaign_title, 16)
    centered(document, "登记表", 20)
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in form.rows():
        cells = table.add_row().cells
        cells[0].width, cells[1].width = Mm(LABEL_WIDTH), Mm(138)
        cells[0].text, cells[1].text = label, value or "—"
        cells[0].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph()
    document.add_paragraph("单位意见（盖章）：")
    for _ in range(4):
        document.add_paragraph()
    date = document.add_paragraph("年        月        日")
    date.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def centered(document, text: str, size: int, font: str = HEADING_FONT):
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    set_east_asian(run, font, size)
    return paragraph


def set_east_asian(target, name: str, size: float | None = None) -> None:
    """Name the font for Chinese text too (python-docx sets only the Latin one)."""
    target.font.name = name
    if size:
        target.font.size = Pt(size)
    element = target.element if hasattr(target, "element") else target._element
    properties = element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = properties.makeelement(qn("w:rFonts"), {})
        properties.append(fonts)
    fonts.set(qn("w:eastAsia"), name)
