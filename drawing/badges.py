"""Badges for a session of the offline exchange: eight per A4 page (90 × 65 mm, the size of
common badge holders), each with the person's name, unit, the session, and the ticket's QR code
so the door can scan the badge as well as the phone.

Pure: badges in, PDF bytes out. Text is drawn as glyph outlines with the posters' CJK font, so
the PDF prints the same on any machine; the QR is vector, error correction M.
"""

import io
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from wechat.cjkfont import outlines
from wechat.qrdraw import GREY, INK, RED, _fit, _pdf_qr, _rgb, qr_matrix

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
    for start in range(0, max(len(badges), 1), PER_PAGE):
        for slot, badge in enumerate(badges[start : start + PER_PAGE]):
            _badge(canvas, badge, *_origin(slot))
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


def _badge(canvas, badge: Badge, x: float, y: float) -> None:
    canvas.setStrokeColorRGB(*_rgb(GREY))
    canvas.setDash(2, 2)
    canvas.rect(x, y, BADGE_WIDTH, BADGE_HEIGHT, stroke=1, fill=0)
    canvas.setFillColorRGB(*_rgb(RED))
    canvas.rect(x, y + BADGE_HEIGHT - 9 * mm, BADGE_WIDTH, 9 * mm, stroke=0, fill=1)
    canvas.setFillColorRGB(1, 1, 1)
    _lines(canvas, badge.session, x + PAD, y + BADGE_HEIGHT - 6.2 * mm, BADGE_WIDTH - 2 * PAD, 10)
    text_room = BADGE_WIDTH - 3 * PAD - QR_SIDE
    canvas.setFillColorRGB(*_rgb(INK))
    _lines(canvas, badge.name, x + PAD, y + BADGE_HEIGHT - 24 * mm, text_room, 24, most=1)
    canvas.setFillColorRGB(*_rgb(GREY))
    _lines(canvas, badge.unit, x + PAD, y + BADGE_HEIGHT - 34 * mm, text_room, 11, most=3)
    _pdf_qr(canvas, qr_matrix(badge.url), x + BADGE_WIDTH - PAD - QR_SIDE, y + PAD, QR_SIDE)


def _lines(canvas, text, x, baseline, room, size, most: int = 1) -> None:
    """`text` shrunk (to 60%) or wrapped to fit `room`, lines going down from `baseline`."""
    font = outlines()
    for line, fitted in _fit(text, size, size * 0.6, room, font.width, most):
        font.draw(canvas, line, x, baseline, fitted)
        baseline -= fitted * 1.3
