"""Badges for a session of the offline exchange: eight per A4 page (90 × 65 mm, the size of
common badge holders), each with the person's name, unit, the session, and the ticket's QR code
so the door can scan the badge as well as the phone.

Pure: badges in, PDF bytes out. Text is drawn as glyph outlines with the posters' CJK font, so
the PDF prints the same on any machine; the QR is vector, error correction M. Each glyph's
outline is drawn once per document as a form XObject and placed by reference: a session's
badges repeat the same few hundred characters, and tracing every outline every time made 300
badges take half a minute and 6 MB.
"""

import io
from dataclasses import dataclass

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import FILL_NON_ZERO, Canvas

from drawing.cjkfont import _CanvasPen, outlines
from drawing.qrdraw import GREY, INK, QUIET_ZONE, RED, _fit, _pdf_qr, _rgb

BADGE_WIDTH, BADGE_HEIGHT = 90 * mm, 65 * mm
COLUMNS, ROWS = 2, 4
PER_PAGE = COLUMNS * ROWS
QR_SIDE = 24 * mm
PAD = 5 * mm


@dataclass(frozen=True)
class Badge:
    name: str
    unit: str
    session: str  # title, and when and where, on one line
    url: str  # what the QR carries: the ticket page


def badges_pdf(badges: list[Badge], title: str = "参会证") -> bytes:
    """All badges, in order, with cut lines; an empty list gives one empty page."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    canvas.setTitle(title)
    text = GlyphForms(canvas)
    for start in range(0, max(len(badges), 1), PER_PAGE):
        for slot, badge in enumerate(badges[start : start + PER_PAGE]):
            _badge(canvas, text, badge, *_origin(slot))
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _origin(slot: int) -> tuple[float, float]:
    """Bottom-left corner of slot 0…7, filled left to right, top to bottom, centred on A4."""
    page_width, page_height = A4
    left = (page_width - COLUMNS * BADGE_WIDTH) / 2
    top = (page_height + ROWS * BADGE_HEIGHT) / 2
    column, row = slot % COLUMNS, slot // COLUMNS
    return left + column * BADGE_WIDTH, top - (row + 1) * BADGE_HEIGHT


def _badge(canvas, text: "GlyphForms", badge: Badge, x: float, y: float) -> None:
    canvas.setStrokeColorRGB(*_rgb(GREY))
    canvas.setDash(2, 2)
    canvas.rect(x, y, BADGE_WIDTH, BADGE_HEIGHT, stroke=1, fill=0)
    canvas.setFillColorRGB(*_rgb(RED))
    canvas.rect(x, y + BADGE_HEIGHT - 9 * mm, BADGE_WIDTH, 9 * mm, stroke=0, fill=1)
    canvas.setFillColorRGB(1, 1, 1)
    text.lines(badge.session, x + PAD, y + BADGE_HEIGHT - 6.2 * mm, BADGE_WIDTH - 2 * PAD, 10)
    text_room = BADGE_WIDTH - 3 * PAD - QR_SIDE
    canvas.setFillColorRGB(*_rgb(INK))
    text.lines(badge.name, x + PAD, y + BADGE_HEIGHT - 24 * mm, text_room, 24, most=1)
    canvas.setFillColorRGB(*_rgb(GREY))
    text.lines(badge.unit, x + PAD, y + BADGE_HEIGHT - 34 * mm, text_room, 11, most=3)
    _pdf_qr(canvas, ticket_matrix(badge.url), x + BADGE_WIDTH - PAD - QR_SIDE, y + PAD, QR_SIDE)


def ticket_matrix(url: str) -> list[list[bool]]:
    """The QR modules of a ticket URL with a fixed mask: choosing the best of eight masks
    (what `qrdraw.qr_matrix` does for posters) took 90% of a badge's time, and every mask
    scans; a badge is read at arm's length, not across a room."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE, mask_pattern=2)
    code.add_data(url)
    code.make(fit=True)
    return code.get_matrix()


class GlyphForms:
    """Text as outlines, each glyph traced once into a form XObject (which takes the fill colour
    in force where it is placed) and placed by reference."""

    def __init__(self, canvas):
        self.canvas = canvas
        self.font = outlines()
        self.made: set[str] = set()

    def lines(self, text: str, x: float, baseline: float, room: float, size: float, most=1):
        """`text` shrunk (to 60%) or wrapped to fit `room`, lines going down from `baseline`."""
        for line, fitted in _fit(text, size, size * 0.6, room, self.font.width, most):
            self.draw(line, x, baseline, fitted)
            baseline -= fitted * 1.3

    def draw(self, text: str, x: float, baseline: float, size: float) -> None:
        scale = size / self.font.units_per_em
        for char in text:
            glyph = self.font._glyph(char)
            self.canvas.saveState()
            self.canvas.transform(scale, 0, 0, scale, x, baseline)
            self.canvas.doForm(self._form(glyph))
            self.canvas.restoreState()
            x += self.font.advances[glyph][0] * scale

    def _form(self, glyph: str) -> str:
        name = f"glyph{self.font.font.getGlyphID(glyph)}"
        if name not in self.made:
            em = self.font.units_per_em
            self.canvas.beginForm(name, -em, -em, 2 * em, 2 * em)
            path = self.canvas.beginPath()
            self.font.glyphs[glyph].draw(_CanvasPen(self.font.glyphs, path, 1.0, 0, 0))
            self.canvas.drawPath(path, stroke=0, fill=1, fillMode=FILL_NON_ZERO)
            self.canvas.endForm()
            self.made.add(name)
        return name
