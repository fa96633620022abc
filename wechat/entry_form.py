"""One entry's printable 报名表 as PDF (issue 10 §6): the unit block, the entry's facts, the
abstract and the four elements (背景、做法、成效、意义), and the evidence list.

Text is set in the posters' CJK font as glyph outlines (drawing/cjkfont.py), so the PDF
prints the same everywhere with no font installed; lines wrap by measured width and pages
break as needed.
"""

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from drawing.cjkfont import outlines

MARGIN = 56
BODY = 10.5
LEADING = 1.6


class Form:
    """A PDF canvas that writes wrapped CJK text top to bottom, page after page."""

    def __init__(self, title: str):
        self.buffer = io.BytesIO()
        self.canvas = Canvas(self.buffer, pagesize=A4, pageCompression=1)
        self.canvas.setTitle(title)
        self.font = outlines()
        self.width = A4[0] - 2 * MARGIN
        self.y = A4[1] - MARGIN

    def text(self, text: str, size: float = BODY, indent: float = 0) -> None:
        for line in self.wrap(text, size, self.width - indent):
            self.room(size * LEADING)
            self.font.draw(self.canvas, line, MARGIN + indent, self.y, size)
            self.y -= size * LEADING

    def heading(self, text: str, size: float = 13) -> None:
        self.room(size * 3)
        self.y -= size * 0.6
        self.text(text, size)
        self.canvas.line(MARGIN, self.y + size * 0.9, MARGIN + self.width, self.y + size * 0.9)

    def field(self, label: str, value) -> None:
        shown = "" if value is None else str(value)
        self.text(f"{label}：{shown}")

    def room(self, needed: float) -> None:
        if self.y - needed < MARGIN:
            self.canvas.showPage()
            self.y = A4[1] - MARGIN

    def wrap(self, text: str, size: float, width: float) -> list[str]:
        lines = []
        for paragraph in (text or "").replace("\r\n", "\n").split("\n"):
            line, used = "", 0.0
            for char in paragraph:
                advance = self.font.width(char, size)
                if used + advance > width and line:
                    lines.append(line)
                    line, used = "", 0.0
                line += char
                used += advance
            lines.append(line)
        return lines

    def finish(self) -> bytes:
        self.canvas.save()
        return self.buffer.getvalue()


def entry_pdf(form: dict) -> bytes:
    """`form`: {title, unit: [(label, value)], entry: [(label, value)], abstract,
    elements: [(label, text)], evidence: [str]} (campaign.entries.exports.entry_form_data)."""
    pdf = Form(form["title"])
    pdf.text(form["title"], 16)
    pdf.heading("一、申报单位")
    for label, value in form["unit"]:
        pdf.field(label, value)
    pdf.heading("二、案例信息")
    for label, value in form["entry"]:
        pdf.field(label, value)
    pdf.heading("三、摘要")
    pdf.text(form["abstract"])
    pdf.heading("四、案例正文")
    for label, body in form["elements"]:
        pdf.text(label, 12)
        pdf.text(body)
    pdf.heading("五、佐证材料")
    for line in form["evidence"] or ["（无）"]:
        pdf.text(line)
    return pdf.finish()
