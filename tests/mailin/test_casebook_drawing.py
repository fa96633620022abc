"""The casebook PDF drawn straight from cases (no database): a table of contents over several
pages still points every case at its page, and a published 专家点评 is printed."""

import io
import re

from fpdf import FPDF
from pypdf import PdfReader

from campaign.casebook.gather import Book, Case
from drawing.casebook import case_text, casebook_pdf, section_pdf, toc_lines, toc_pages
from drawing.pdffont import FONT, render

ELEMENTS = (
    ("背景", "背景。" * 50),
    ("做法", "做法。" * 300),
    ("成效", "成效。"),
    ("意义", "意义。"),
)


def case(number: int, award: str, domain: str, comment=None) -> Case:
    return Case(
        entry_id=number, title=f"第{number}号案例", unit=f"第{number}党支部", region="厦门市",
        award=award, award_label=award, domain=domain, domain_label=domain,
        abstract="摘要内容。" * 40, elements=ELEMENTS, photos=(), comment=comment,
    )  # fmt: skip


def test_a_long_table_of_contents_points_every_case_at_its_page():
    cases = [case(n, award, domain) for n, (award, domain) in enumerate(
        [("品牌", "农村")] * 20 + [("案例", "城市")] * 40 + [("案例", "国企")] * 30
    )]  # fmt: skip
    lines = toc_lines((c.award_label, c.domain_label, c.title) for c in cases)
    reserved = toc_pages(h.level for h in lines)
    assert reserved >= 3
    book = Book(
        title="征集", organizer="主办", counts=(("品牌", 20), ("案例", 70)), date="2021年12月"
    )
    text = "".join(case_text(c) for c in cases)
    pages = [
        p.extract_text()
        for p in PdfReader(io.BytesIO(casebook_pdf(book, cases, text, lines))).pages
    ]
    listed = {}
    for page in pages[1 : 1 + reserved]:
        for title, number in re.findall(r"(第\d+号案例)\s*(\d+)", page):
            listed[title] = int(number)
    assert sorted(listed) == sorted(c.title for c in cases)
    for title, number in listed.items():
        assert f"{title}\n" in pages[number - 1] or pages[number - 1].startswith(title), title
    assert pages[1 + reserved].startswith(cases[0].title) or cases[0].title in pages[1 + reserved]


def test_the_published_comment_is_printed():
    section = section_pdf(case(1, "品牌", "农村", comment="该案例做法扎实，可复制可推广。"))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(section)).pages)
    assert "专家点评" in text and "该案例做法扎实，可复制可推广。" in text
    bare = section_pdf(case(2, "品牌", "农村"))
    assert "专家点评" not in "".join(p.extract_text() for p in PdfReader(io.BytesIO(bare)).pages)


def test_a_character_left_out_of_the_subset_is_added_on_a_second_pass():
    def draw(pdf: FPDF) -> None:
        pdf.add_page()
        pdf.set_font(FONT, size=12)
        pdf.cell(0, 10, "漏掉的字也能印出")

    content = render(FPDF, draw, "漏")  # the subset is told only one character
    assert PdfReader(io.BytesIO(content)).pages[0].extract_text() == "漏掉的字也能印出"
