"""The casebook job for 12 cases across 2 awards and 3 domains: its table of contents lists
every case under the right headings, and each page number points at that case's page."""

import io
import re

import pytest
from docx import Document
from pypdf import PdfReader

from models import Entry
from tests.factories import Organizer
from tests.mailin.winners import add_photo, make_winner

LAYOUT = [("brand", "rural", 2), ("brand", "urban", 2),
          ("case", "rural", 3), ("case", "urban", 2), ("case", "soe", 3)]  # fmt: skip
AWARDS = {"brand": "新时代党建品牌", "case": "新时代党建优秀案例"}
DOMAINS = {"rural": "农村基层党建", "urban": "城市基层党建", "soe": "国有企业党建"}


@pytest.fixture
def book(client, open_window, run_jobs):
    """Twelve winners (made out of book order), the build started through the API and run."""
    made = []
    for award, domain, count in reversed(LAYOUT):
        for number in range(count):
            title = f"{DOMAINS[domain][:2]}{AWARDS[award][-2:]}案例{number + 1}号"
            made.append(make_winner(open_window, award=award, domain=domain, title=title))
    add_photo(made[0])
    loser = make_winner(open_window, title="未入选的案例")
    Entry.update(status="not_selected").where(Entry.id == loser.id).execute()
    organizer = Organizer(client, open_window)
    started = organizer.post("/api/v1/org/casebook/builds", json={"photos_per_case": 1})
    assert started.status_code == 202 and started.get_json()["status"] == "pending"
    run_jobs()
    return organizer, started.get_json()["id"], made


def expected_order(made):
    """(award label, domain label, title) in book order: brands first, domains as planned."""
    rank = {code: i for i, code in enumerate(["rural", "urban", "soe"])}
    ordered = sorted(made, key=lambda e: (e.track != "brand", rank[e.domain], e.id))
    return [(AWARDS[e.track], DOMAINS[e.domain], e.title) for e in ordered]


def test_progress_is_reported_and_both_files_are_ready(book):
    organizer, build_id, _ = book
    state = organizer.get(f"/api/v1/org/casebook/builds/{build_id}").get_json()
    assert (state["status"], state["done"], state["total"]) == ("ready", 24, 24)
    assert state["pdf_size"] > 0 and state["docx_size"] > 0
    listed = organizer.get("/api/v1/org/casebook/builds").get_json()["items"]
    assert [item["id"] for item in listed] == [build_id]


def test_the_table_of_contents_lists_every_case_under_its_headings_with_true_pages(book):
    organizer, build_id, made = book
    response = organizer.get(f"/api/v1/org/casebook/builds/{build_id}/casebook.pdf")
    assert response.status_code == 200
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages]
    assert "案例汇编" in pages[0] and "新时代党建优秀案例　共 8 个" in pages[0]
    toc = [line.strip() for line in pages[1].splitlines() if line.strip()]
    toc = [line for line in toc if not re.fullmatch(r"— \d+ —", line)]  # the page's number
    assert toc[0].replace(" ", "").replace("　", "") == "目录"
    award = domain = None
    listed = []
    for line in toc[1:]:
        match = re.fullmatch(r"(.+?)\s*(\d+)", line)
        if line in AWARDS.values():
            award, domain = line, None
        elif line in DOMAINS.values():
            domain = line
        elif match and not line.startswith("—"):
            title, page = match.group(1).strip(), int(match.group(2))
            listed.append((award, domain, title))
            assert title in pages[page - 1], f"{title} is not on page {page}"
            assert f"— {page} —" in pages[page - 1]
            assert "单位：" in pages[page - 1]
    assert listed == expected_order(made)


def test_the_case_text_photos_and_the_docx(book):
    organizer, build_id, made = book
    pdf = organizer.get(f"/api/v1/org/casebook/builds/{build_id}/casebook.pdf").data
    reader = PdfReader(io.BytesIO(pdf))
    texts = [page.extract_text() for page in reader.pages]
    (first,) = [text for text in texts if made[0].title in text and "单位：" in text]
    for part in ("摘要", "背景", "做法", "以党建引领基层治理", made[0].unit.name):
        assert part in first, part
    assert sum(len(page.images) for page in reader.pages) == 1  # the one photo uploaded
    assert "未入选的案例" not in "".join(texts)
    docx = organizer.get(f"/api/v1/org/casebook/builds/{build_id}/casebook.docx")
    document = Document(io.BytesIO(docx.data))
    headings = [(p.style.name, p.text) for p in document.paragraphs
                if p.style.name.startswith("Heading")]  # fmt: skip
    expected, award, domain = [], None, None
    for award_label, domain_label, title in expected_order(made):
        if award_label != award:
            expected.append(("Heading 1", award_label))
            award, domain = award_label, None
        if domain_label != domain:
            expected.append(("Heading 2", domain_label))
            domain = domain_label
        expected.append(("Heading 3", title))
    assert headings == expected
    assert len(document.inline_shapes) == 1


def test_preview_of_one_section_and_nothing_before_it_is_ready(client, open_window):
    organizer = Organizer(client, open_window)
    entry = make_winner(open_window, title="预览这一个案例")
    response = organizer.get(f"/api/v1/org/casebook/preview/{entry.id}")
    assert response.status_code == 200
    (page, *_) = [p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages]
    assert "预览这一个案例" in page and "成效" in page
    assert organizer.get("/api/v1/org/casebook/preview/999999").status_code == 404
    pending = organizer.post("/api/v1/org/casebook/builds", json={}).get_json()
    not_ready = organizer.get(f"/api/v1/org/casebook/builds/{pending['id']}/casebook.pdf")
    assert not_ready.status_code == 409
    bad = organizer.post("/api/v1/org/casebook/builds", json={"photos_per_case": 9})
    assert bad.status_code == 422


def test_a_book_without_winners_is_built_empty_not_failed(client, open_window, run_jobs):
    organizer = Organizer(client, open_window)
    started = organizer.post("/api/v1/org/casebook/builds").get_json()
    assert organizer.post("/api/v1/org/casebook/builds", json=[1]).status_code == 400
    run_jobs()
    state = organizer.get(f"/api/v1/org/casebook/builds/{started['id']}").get_json()
    assert (state["status"], state["done"], state["total"]) == ("ready", 0, 0)
    pdf = organizer.get(f"/api/v1/org/casebook/builds/{started['id']}/casebook.pdf").data
    assert "案例汇编" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
