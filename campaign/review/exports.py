"""Exports of the review: the score sheet (one row per entry × expert, a column per
criterion) as Excel, and one entry's review summary as a PDF with Chinese text drawn as
outlines (drawing.cjkfont), so it prints the same anywhere."""

import io

from campaign.review.board import board
from campaign.review.rubric import GATE_OPTIONS, review_settings
from campaign.review.scores import total
from models import Account, Assignment, Campaign, Entry, Score


def score_sheet(campaign: Campaign) -> bytes:
    """评分表.xlsx: entries × experts × criteria, submitted reviews and drafts marked."""
    from openpyxl import Workbook

    weights = review_settings(campaign)["weights"]
    book = Workbook()
    sheet = book.active
    sheet.title = "评分表"
    sheet.append(
        [
            "作品编号",
            "作品名称",
            "类别",
            "领域",
            "专家",
            "政治性",
            *weights,
            "总分",
            "状态",
            "专家点评",
        ]
    )
    rows = (
        Assignment.select(Assignment, Entry, Account)
        .join(Entry)
        .switch(Assignment)
        .join(Account)
        .where(Entry.campaign == campaign)
        .order_by(Entry.id, Account.id)
    )
    scores: dict = {}
    for score in Score.select().join(Assignment).join(Entry).where(Entry.campaign == campaign):
        scores.setdefault(score.assignment_id, {})[score.criterion] = score.value
    for a in rows:
        mine = scores.get(a.id, {})
        sheet.append(
            [
                a.entry.id,
                a.entry.title,
                a.entry.track,
                a.entry.domain,
                a.expert.display_name,
                GATE_OPTIONS.get(a.gate, ""),
                *[mine.get(code) for code in weights],
                round(sum(mine.values()), 2) if mine else None,
                "已提交" if a.submitted_at else "草稿",
                a.comment,
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def summary_pdf(entry: Entry) -> bytes:
    """One entry's review summary: the board's numbers, then each submitted review."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from drawing.cjkfont import outlines

    font = outlines()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4)
    width, height = A4
    y = [height - 60]

    def line(text: str, size: float = 10.5, indent: float = 50) -> None:
        for chunk in _wrap(font, text, size, width - indent - 50):
            if y[0] < 60:
                canvas.showPage()
                y[0] = height - 60
            font.draw(canvas, chunk, indent, y[0], size)
            y[0] -= size * 1.6

    row = next(
        (
            r
            for g in board(entry.campaign)["groups"]
            for r in g["entries"]
            if r["entry"] == entry.id
        ),
        None,
    )
    line(f"专家点评汇总：{entry.title}", 15)
    line(f"作品编号 {entry.id}　类别 {entry.track}　领域 {entry.domain}")
    if row:
        line(
            f"加权总分 {row['mean']}　中位数 {row['median']}　分差 {row['spread']}"
            f"　校正分 {row['corrected']}　政治性 {row['gate']}"
        )
    weights = review_settings(entry.campaign)["weights"]
    for a in (
        Assignment.select()
        .where((Assignment.entry == entry.id) & Assignment.submitted_at.is_null(False))
        .order_by(Assignment.id)
    ):
        scores = {s.criterion: s.value for s in a.scores}
        line(
            f"专家 {a.expert.display_name}：总分 {total(a)}，政治性 {GATE_OPTIONS.get(a.gate, '')}",
            12,
        )
        line("　".join(f"{code} {scores.get(code)}/{w}" for code, w in weights.items()), 10, 60)
        line(a.comment, 10.5, 60)
    canvas.save()
    return out.getvalue()


def _wrap(font, text: str, size: float, room: float) -> list[str]:
    lines = []
    for paragraph in (text or "").splitlines() or [""]:
        current = ""
        for char in paragraph:
            if font.width(current + char, size) > room:
                lines.append(current)
                current = ""
            current += char
        lines.append(current)
    return lines
