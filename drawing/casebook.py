"""The casebook (案例汇编) as PDF and DOCX: a cover, a table of contents grouped by award then
domain with page numbers, and one section per case.

The PDF is drawn with fpdf2 in a font subset of the book's own text (`drawing.pdffont`): its
table of contents is reserved after the cover and filled in at the end from the outline, so
its page numbers are the pages the cases really start on; every page but the cover carries
its number at the foot. The DOCX uses Word's heading styles and a TOC field that Word and WPS
fill in on opening (page numbers depend on the reader's fonts, so only they can compute them).
Cases arrive as an iterator and are drawn one at a time; `progress(done)` follows each one.
"""

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm
from fpdf import FPDF
from PIL import Image

from campaign.casebook.gather import Book, Case
from drawing.forms import BODY_FONT, HEADING_FONT, centered, set_east_asian
from drawing.lines import wrap
from drawing.pdffont import FONT, render

TOC_TITLE = "目　录"
TOC_ROWS = {0: 11.0, 1: 9.0, 2: 7.5}  # mm per table-of-contents line, by outline level
TOC_TITLE_HEIGHT = 20.0
MARGIN = 18.0
PAGE_HEIGHT = 297.0
PHOTO_WIDTH = 120.0  # mm
LITERALS = "案例汇编目录摘要专家点评单位地区领域类别共个第页：　—" + TOC_TITLE


@dataclass(frozen=True)
class Heading:
    """One line of the table of contents, before page numbers are known."""

    level: int
    text: str


def toc_lines(cases_in_order: Iterable[tuple[str, str, str]]) -> list[Heading]:
    """The table of contents' lines from (award label, domain label, title) in book order."""
    lines, award, domain = [], None, None
    for award_label, domain_label, title in cases_in_order:
        if award_label != award:
            lines.append(Heading(0, award_label))
            award, domain = award_label, None
        if domain_label != domain:
            lines.append(Heading(1, domain_label))
            domain = domain_label
        lines.append(Heading(2, title))
    return lines


def toc_pages(levels: Iterable[int]) -> int:
    """How many pages the table of contents takes: the same arithmetic `_render_toc` uses."""
    pages, y = 1, MARGIN + TOC_TITLE_HEIGHT
    for level in levels:
        if y + TOC_ROWS[level] > PAGE_HEIGHT - MARGIN:
            pages, y = pages + 1, MARGIN
        y += TOC_ROWS[level]
    return pages


class _BookPDF(FPDF):
    def footer(self):
        if self.page_no() > 1:
            self.set_y(-12)
            self.set_font(FONT, size=9)
            self.set_text_color(110)
            self.cell(0, 6, f"— {self.page_no()} —", align="C")
            self.set_text_color(0)


def casebook_pdf(
    book: Book,
    cases: Iterable[Case],
    text: str,
    lines: list[Heading],
    progress: Callable[[int], None] = lambda done: None,
) -> bytes:
    """The whole book. `text` holds every character the cases show (for the font subset) and
    `lines` the table of contents to come (to reserve its pages)."""

    def new() -> FPDF:
        pdf = _BookPDF(format="A4", unit="mm")
        pdf.set_title(f"{book.title} 案例汇编")
        pdf.set_creator("campaign")
        pdf.set_margins(20, MARGIN, 20)
        pdf.set_auto_page_break(True, margin=MARGIN)
        return pdf

    def draw(pdf: FPDF) -> None:
        _cover(pdf, book)
        pdf.add_page()
        pdf.insert_toc_placeholder(_render_toc, pages=toc_pages(h.level for h in lines))
        award = domain = None
        for done, case in enumerate(cases, start=1):
            if done > 1:  # the placeholder's page break already opened the first case's page
                pdf.add_page()
            if case.award_label != award:
                pdf.start_section(case.award_label, level=0)
                award, domain = case.award_label, None
            if case.domain_label != domain:
                pdf.start_section(case.domain_label, level=1)
                domain = case.domain_label
            pdf.start_section(case.title, level=2)
            draw_case(pdf, case)
            progress(done)

    book_text = text + book.title + book.organizer + book.date + LITERALS
    return render(new, draw, book_text + "".join(label for label, _ in book.counts))


def section_pdf(case: Case, text: str = "") -> bytes:
    """One case's section alone, for the organizer to check before building the whole book."""

    def new() -> FPDF:
        pdf = _BookPDF(format="A4", unit="mm")
        pdf.set_margins(20, MARGIN, 20)
        pdf.set_auto_page_break(True, margin=MARGIN)
        return pdf

    def draw(pdf: FPDF) -> None:
        pdf.add_page()
        draw_case(pdf, case)

    return render(new, draw, case_text(case) + LITERALS)


def case_text(case: Case) -> str:
    """Every character a case's section shows."""
    elements = "".join(label + body for label, body in case.elements)
    return meta_line(case) + case.title + case.abstract + (case.comment or "") + elements


def meta_line(case: Case) -> str:
    return "　".join((f"单位：{case.unit}", f"地区：{case.region}", f"领域：{case.domain_label}",
                     f"类别：{case.award_label}"))  # fmt: skip


def _cover(pdf: FPDF, book: Book) -> None:
    pdf.add_page()
    pdf.set_y(80)
    pdf.set_font(FONT, size=24)
    pdf.multi_cell(0, 13, book.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font(FONT, size=32)
    pdf.cell(0, 18, "案例汇编", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(20)
    pdf.set_font(FONT, size=13)
    for label, count in book.counts:
        pdf.cell(0, 9, f"{label}　共 {count} 个", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(-60)
    pdf.cell(0, 9, book.organizer, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 9, book.date, align="C", new_x="LMARGIN", new_y="NEXT")


def _render_toc(pdf: FPDF, outline) -> None:
    pdf.set_font(FONT, size=18)
    pdf.cell(0, TOC_TITLE_HEIGHT - 4, TOC_TITLE, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(MARGIN + TOC_TITLE_HEIGHT)
    for section in outline:
        height = TOC_ROWS[section.level]
        if pdf.get_y() + height > PAGE_HEIGHT - MARGIN:
            pdf.add_page()
            pdf.set_y(MARGIN)
        if section.level == 2:
            _toc_case(pdf, section, height)
        else:
            pdf.set_font(FONT, size=15 if section.level == 0 else 12.5)
            pdf.set_x(pdf.l_margin + 6 * section.level)
            pdf.cell(0, height, section.name, new_x="LMARGIN", new_y="NEXT")


def _toc_case(pdf: FPDF, section, height: float) -> None:
    """`title ··· page` on one line; a long title is shortened to fit."""
    pdf.set_font(FONT, size=11)
    number = str(section.page_number)
    left = pdf.l_margin + 12
    room = pdf.w - pdf.r_margin - left - pdf.get_string_width(number) - 8
    title = section.name
    while title and pdf.get_string_width(title) > room:
        title = title[:-2] + "…"
    pdf.set_x(left)
    pdf.cell(room + 4, height, title, link=pdf.add_link(page=section.page_number))
    pdf.cell(0, height, number, align="R", new_x="LMARGIN", new_y="NEXT")


def draw_case(pdf: FPDF, case: Case) -> None:
    """One case: title, who and where, abstract, the four elements, photos, 专家点评."""
    pdf.set_font(FONT, size=17)
    pdf.multi_cell(0, 9, case.title, new_x="LMARGIN", new_y="NEXT", wrapmode="CHAR")
    pdf.set_font(FONT, size=10)
    pdf.set_text_color(90)
    paragraph_lines(pdf, meta_line(case), 6)
    pdf.set_text_color(0)
    pdf.ln(2)
    _part(pdf, "摘要", case.abstract)
    for label, body in case.elements:
        _part(pdf, label, body)
    _photos(pdf, case.photos)
    if case.comment:
        _part(pdf, "专家点评", case.comment)


def _part(pdf: FPDF, label: str, body: str) -> None:
    if pdf.get_y() + 20 > PAGE_HEIGHT - MARGIN:
        pdf.add_page()
    pdf.set_font(FONT, size=12.5)
    pdf.set_text_color(160, 20, 30)
    pdf.cell(0, 9, label, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    pdf.set_font(FONT, size=11)
    for paragraph in (body or "").splitlines():
        if paragraph.strip():
            paragraph_lines(pdf, "　　" + paragraph.strip(), 6.5)
    pdf.ln(2)


def paragraph_lines(pdf: FPDF, text: str, height: float) -> None:
    """`text` broken by Chinese rules (`drawing.lines`), one cell per line; pages break
    between lines."""
    widths: dict[str, float] = {}

    def width_of(char: str) -> float:
        if char not in widths:
            widths[char] = pdf.get_string_width(char)
        return widths[char]

    for line in wrap(text, pdf.epw, width_of):
        pdf.cell(0, height, line, new_x="LMARGIN", new_y="NEXT")


def _photos(pdf: FPDF, photos: tuple[bytes, ...]) -> None:
    for photo in photos:
        with Image.open(io.BytesIO(photo)) as image:
            height = PHOTO_WIDTH * image.height / image.width
        if pdf.get_y() + height + 4 > PAGE_HEIGHT - MARGIN:
            pdf.add_page()
        pdf.image(io.BytesIO(photo), x=(pdf.w - PHOTO_WIDTH) / 2, w=PHOTO_WIDTH)
        pdf.ln(4)


# --- DOCX --------------------------------------------------------------------------------


def casebook_docx(
    book: Book, cases: Iterable[Case], progress: Callable[[int], None] = lambda done: None
) -> bytes:
    """The same book as an editable Word document, headings ready for Word's TOC."""
    document = Document()
    set_east_asian(document.styles["Normal"], BODY_FONT, 11)
    for level in (1, 2, 3):
        set_east_asian(document.styles[f"Heading {level}"], HEADING_FONT)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for _ in range(6):
        document.add_paragraph()
    centered(document, book.title, 22)
    centered(document, "案例汇编", 30)
    for label, count in book.counts:
        centered(document, f"{label}　共 {count} 个", 13, BODY_FONT)
    centered(document, book.organizer, 13, BODY_FONT)
    centered(document, book.date, 13, BODY_FONT)
    document.add_section(WD_SECTION.NEW_PAGE)
    centered(document, TOC_TITLE, 18)
    _toc_field(document)
    _page_numbers(document.sections[-1])
    _update_fields_on_open(document)
    award = domain = None
    for done, case in enumerate(cases, start=1):
        if case.award_label != award:
            _page_break(document)
            document.add_heading(case.award_label, level=1)
            award, domain = case.award_label, None
        if case.domain_label != domain:
            document.add_heading(case.domain_label, level=2)
            domain = case.domain_label
        else:
            _page_break(document)
        _docx_case(document, case)
        progress(done)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _docx_case(document, case: Case) -> None:
    document.add_heading(case.title, level=3)
    document.add_paragraph(meta_line(case))
    for label, body in (("摘要", case.abstract), *case.elements):
        document.add_paragraph().add_run(label).bold = True
        for paragraph in (body or "").splitlines():
            if paragraph.strip():
                document.add_paragraph("　　" + paragraph.strip())
    for photo in case.photos:
        document.add_picture(io.BytesIO(photo), width=Mm(PHOTO_WIDTH))
        document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    if case.comment:
        document.add_paragraph().add_run("专家点评").bold = True
        document.add_paragraph("　　" + case.comment)


def _page_break(document) -> None:
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _field(paragraph, instruction: str, placeholder: str = "") -> None:
    """A Word field (TOC, PAGE) with `placeholder` shown until the reader updates it."""
    run = paragraph.add_run()
    for kind, text in (("begin", None), ("instr", instruction), ("separate", None),
                       ("text", placeholder), ("end", None)):  # fmt: skip
        if kind == "instr":
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        elif kind == "text":
            element = OxmlElement("w:t")
            element.text = text
        else:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
            if kind == "begin":
                element.set(qn("w:dirty"), "true")
        run._r.append(element)


def _toc_field(document) -> None:
    _field(
        document.add_paragraph(), 'TOC \\o "1-3" \\h \\z \\u', "（打开文档后更新目录即可显示页码）"
    )


def _page_numbers(section) -> None:
    footer = section.footer
    footer.is_linked_to_previous = False
    paragraph = footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(paragraph, "PAGE", "1")


def _update_fields_on_open(document) -> None:
    """Ask Word/WPS to refresh fields (the TOC's page numbers) when the file is opened."""
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    document.settings.element.append(update)
