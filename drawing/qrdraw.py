"""Drawing a channel's codes: the plain-link QR (PNG, SVG, PDF) and the poster (PNG, PDF).

Everything starts from one `qrcode` module matrix, so the PNG, SVG and PDF of a link are the
same code. Error correction M (15%) survives a crease or a smudge on a printed poster. The
poster's layout is computed once per output in A4 points and drawn by Pillow for screens or
by ReportLab for print (vector QR, text as outlines: see `drawing.cjkfont`). Pure functions
from text to bytes: no database, no storage.
"""

import io
import struct
import zlib
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import numpy
import qrcode
from PIL import Image, ImageDraw
from qrcode.constants import ERROR_CORRECT_M
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from zlib_ng import zlib_ng

from drawing.cjkfont import outlines, pillow_font

QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks
PAGE_WIDTH, PAGE_HEIGHT = A4  # points
PNG_SCALE = 2.0  # poster PNG pixels per point: 1191 × 1684, sharp on phones and projectors
MARGIN = 48
QR_SIDE = 300
RED = (193, 18, 31)  # the H5 pages' red
INK = (34, 34, 34)
GREY = (102, 102, 102)
WHITE = (255, 255, 255)
POSTER_PNG_COMPRESSION = 2  # zlib-ng level of the poster PNG (see `_png_up`)
NO_LINE_START = "，。、；：！？）》」』”’"


@lru_cache(maxsize=64)
def qr_matrix(text: str) -> tuple[tuple[bool, ...], ...]:
    """The dark/light modules of `text`'s QR code, quiet zone included. Remembered for the
    last few texts: a channel's link is drawn as PNG, PDF and on two posters, and choosing the
    best of eight masks is most of a code's cost."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE)
    code.add_data(text)
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())


def qr_image(matrix, side: int) -> Image.Image:
    """The matrix as a 1-bit image at most `side` pixels wide, whole pixels per module."""
    modules = len(matrix)
    small = Image.new("1", (modules, modules), 1)
    small.putdata([0 if dark else 1 for row in matrix for dark in row])
    scale = max(1, side // modules)
    return small.resize((modules * scale, modules * scale), Image.NEAREST)


def link_png(text: str, module_pixels: int = 10) -> bytes:
    """A PNG of the link's QR code for screens (10 px per module: ~370 px for a short URL)."""
    matrix = qr_matrix(text)
    return _png(qr_image(matrix, len(matrix) * module_pixels))


def link_svg(text: str) -> bytes:
    """An SVG of the link's QR code on white, for designers' own layouts: one path, one
    rectangle per horizontal run of dark modules, 1 mm per module (from the same matrix as
    the PNG and PDF)."""
    matrix = qr_matrix(text)
    side = len(matrix)
    runs = [
        f"M{start},{y}h{length}v1h-{length}z"
        for y, row in enumerate(matrix)
        for start, length in _dark_runs(row)
    ]
    return (
        f'<svg width="{side}mm" height="{side}mm" version="1.1" viewBox="0 0 {side} {side}" '
        'xmlns="http://www.w3.org/2000/svg"><rect fill="white" x="0" y="0" width="100%" '
        f'height="100%"/><path d="{"".join(runs)}" fill="#000000"/></svg>'
    ).encode()


def _dark_runs(row) -> list[tuple[int, int]]:
    """(first column, length) of each run of dark modules in a matrix row."""
    runs, start = [], None
    for column, dark in enumerate([*row, False]):
        if dark and start is None:
            start = column
        elif not dark and start is not None:
            runs.append((start, column - start))
            start = None
    return runs


@contextmanager
def _binary_streams():
    """PDF streams written deflated but not also ASCII85-armoured (ReportLab's default
    `useA85`): a pure-Python encoder that took a fifth of a poster PDF's time and made it
    a quarter larger, for 7-bit safety no printer or browser needs."""
    armoured = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = armoured


def link_pdf(text: str) -> bytes:
    """A print PDF: the code 60 mm wide in vector, with the link spelled out beneath it."""
    width, height = 70 * mm, 80 * mm
    buffer = io.BytesIO()
    with _binary_streams():
        canvas = Canvas(buffer, pagesize=(width, height), invariant=1)
        _draw_link_pdf(canvas, text, width, height)
        canvas.save()
    return buffer.getvalue()


def _draw_link_pdf(canvas, text: str, width: float, height: float) -> None:
    _pdf_qr(canvas, qr_matrix(text), 5 * mm, 15 * mm, 60 * mm)
    font = outlines()
    size = min(8.0, 60 * mm / max(font.width(text, 1.0), 1))
    canvas.setFillColorRGB(*_rgb(GREY))
    font.draw(canvas, text, (width - font.width(text, size)) / 2, 9 * mm, size)
    canvas.showPage()


def url_qr_png(url: str) -> bytes:
    """An official-account QR image drawn locally from the `url` WeChat returned with the ticket."""
    return link_png(url, module_pixels=8)


# --- The poster ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PosterText:
    """What a poster says: campaign, department, what to do, and the link inside the code."""

    title: str
    theme: str
    name: str
    label: str
    instruction: str
    url: str
    footer: tuple[str, ...] = ()


@dataclass(frozen=True)
class Line:
    """One centred line of text: its baseline in points from the top of the page."""

    text: str
    size: float
    color: tuple[int, int, int]
    baseline: float


@dataclass(frozen=True)
class Layout:
    band: float  # height of the red header band
    qr_top: float
    lines: tuple[Line, ...]


Measure = Callable[[str, float], float]


def layout(poster: PosterText, width_of: Measure) -> Layout:
    """Where everything goes on an A4 page, measuring text with `width_of(text, size)`."""
    lines: list[Line] = []
    room = PAGE_WIDTH - 2 * MARGIN
    y = 40.0
    for text, size in _fit(poster.title, 30, 20, room, width_of, 2):
        y += size * 1.35
        lines.append(Line(text, size, WHITE, y))
    if poster.theme:
        y += 30
        lines.append(Line(poster.theme, 18, WHITE, y))
    band = y + 32
    qr_top = band + 36
    y = qr_top + QR_SIDE + 16
    lines.append(Line(poster.url, 10, GREY, y))
    y += 12
    for text, size in _fit(poster.name, 30, 20, room, width_of, 2):
        y += size * 1.4
        lines.append(Line(text, size, INK, y))
    if poster.label and poster.label != poster.name:
        y += 26
        lines.append(Line(_clip(poster.label, 16, room, width_of), 16, GREY, y))
    y += 48
    lines.append(Line(_clip(poster.instruction, 22, room, width_of), 22, RED, y))
    y = PAGE_HEIGHT - 36 - 18 * len(poster.footer)
    for text in poster.footer:
        y += 18
        lines.append(Line(_clip(text, 12, room, width_of), 12, GREY, y))
    return Layout(band=band, qr_top=qr_top, lines=tuple(lines))


def _fit(text: str, size: float, smallest: float, room: float, width_of: Measure, most: int):
    """`text` on one line if shrinking to `smallest` allows, else in at most `most` balanced
    lines at the largest size that fits, clipped as a last resort; as (line, size) pairs."""
    for trial in _sizes(size, smallest):
        if width_of(text, trial) <= room:
            return [(text, trial)]
    for trial in _sizes(size, smallest):
        count = -(-width_of(text, trial) // room)  # lines needed, rounded up
        wrapped = _wrap(text, trial, min(room, width_of(text, trial) / count + trial), width_of)
        if len(wrapped) <= most:
            return [(line, trial) for line in wrapped]
    wrapped = _wrap(text, smallest, room, width_of)
    clipped = _clip("".join(wrapped[most - 1 :]), smallest, room, width_of)
    return [(line, smallest) for line in [*wrapped[: most - 1], clipped]]


def _sizes(largest: float, smallest: float) -> list[float]:
    return [largest - step for step in range(0, int(largest - smallest) + 1, 2)]


def _wrap(text: str, size: float, room: float, width_of: Measure) -> list[str]:
    """Break anywhere (Chinese has no spaces), but never start a line with closing punctuation."""
    lines, current = [], ""
    for char in text:
        if current and width_of(current + char, size) > room and char not in NO_LINE_START:
            lines.append(current)
            current = ""
        current += char
    return [*lines, current] if current else lines


def _clip(text: str, size: float, room: float, width_of: Measure) -> str:
    if width_of(text, size) <= room:
        return text
    while text and width_of(text + "…", size) > room:
        text = text[:-1]
    return text + "…"


def poster_png(poster: PosterText) -> bytes:
    """The poster for screens and sharing in chats."""

    def width_of(text: str, size: float) -> float:
        return pillow_font(round(size * PNG_SCALE)).getlength(text) / PNG_SCALE

    plan = layout(poster, width_of)
    in_band = tuple(line for line in plan.lines if line.baseline < plan.band)
    page = _blank_page(plan.band, in_band).copy()
    draw = ImageDraw.Draw(page)
    code = qr_image(qr_matrix(poster.url), round(QR_SIDE * PNG_SCALE))
    page.paste(
        code.convert("RGB"), ((page.width - code.width) // 2, round(plan.qr_top * PNG_SCALE))
    )
    for line in plan.lines:
        if line not in in_band:
            _draw_line(draw, page.width, line)
    return _png_up(page)


@lru_cache(maxsize=8)
def _blank_page(band: float, lines: tuple[Line, ...]) -> Image.Image:
    """The page with its red band and the campaign's title and theme: the same on every
    poster of a campaign, so drawn once per process (copied, never drawn on)."""
    page = Image.new("RGB", (round(PAGE_WIDTH * PNG_SCALE), round(PAGE_HEIGHT * PNG_SCALE)), WHITE)
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 0, page.width, round(band * PNG_SCALE)), fill=RED)
    for line in lines:
        _draw_line(draw, page.width, line)
    return page


def _draw_line(draw: ImageDraw.ImageDraw, page_width: int, line: Line) -> None:
    font = pillow_font(round(line.size * PNG_SCALE))
    x = (page_width - font.getlength(line.text)) / 2
    draw.text((x, line.baseline * PNG_SCALE), line.text, fill=line.color, font=font, anchor="ls")


def poster_pdf(poster: PosterText) -> bytes:
    """The poster for print: A4, vector code, text as outlines, no fonts to embed or miss."""
    buffer = io.BytesIO()
    with _binary_streams():
        canvas = Canvas(buffer, pagesize=A4, invariant=1)
        _draw_poster_pdf(canvas, poster)
        canvas.save()
    return buffer.getvalue()


def _draw_poster_pdf(canvas, poster: PosterText) -> None:
    font = outlines()
    plan = layout(poster, font.width)
    canvas.setTitle(f"{poster.title} - {poster.name}")
    canvas.setFillColorRGB(*_rgb(RED))
    canvas.rect(0, PAGE_HEIGHT - plan.band, PAGE_WIDTH, plan.band, stroke=0, fill=1)
    left = (PAGE_WIDTH - QR_SIDE) / 2
    _pdf_qr(canvas, qr_matrix(poster.url), left, PAGE_HEIGHT - plan.qr_top - QR_SIDE, QR_SIDE)
    for line in plan.lines:
        canvas.setFillColorRGB(*_rgb(line.color))
        x = (PAGE_WIDTH - font.width(line.text, line.size)) / 2
        font.draw(canvas, line.text, x, PAGE_HEIGHT - line.baseline, line.size)
    canvas.showPage()


def _pdf_qr(canvas, matrix, left: float, bottom: float, side: float) -> None:
    """Dark modules as filled rectangles, one per horizontal run, on a white square."""
    module = side / len(matrix)
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(left, bottom, side, side, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    for row_index, row in enumerate(matrix):
        top = bottom + side - (row_index + 1) * module
        for start, length in _dark_runs(row):
            canvas.rect(left + start * module, top, length * module, module, 0, 1)


def _png(image: Image.Image, compress_level: int = 6, compress_type: int = -1) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=compress_level, compress_type=compress_type)
    return buffer.getvalue()


def _png_up(image: Image.Image) -> bytes:
    """An RGB image as PNG with every row "Up"-filtered (the difference from the row above).

    Encoding was two thirds of a poster's time: Pillow's adaptive filter tries five filters
    on every row and has no switch, and the zlib it links spends ~7 ms on 6 MB even of
    zeros. A poster is flat colour that repeats from row to row, so Up turns nearly all of
    it into zeros, and zlib-ng (the same deflate format, any decoder reads it) compresses
    those ten times faster: ~5 ms instead of ~21 ms a poster, ~88 KB instead of ~100 KB."""
    pixels = numpy.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    rows = pixels.reshape(pixels.shape[0], -1)
    filtered = numpy.empty((rows.shape[0], rows.shape[1] + 1), dtype=numpy.uint8)
    filtered[:, 0] = 2  # filter type Up
    filtered[0, 0] = 0  # the first row has nothing above it: no filter
    filtered[0, 1:] = rows[0]
    numpy.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])  # modulo 256, as PNG wants
    header = struct.pack(">IIBBBBB", image.width, image.height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib_ng.compress(filtered, POSTER_PNG_COMPRESSION)),  # no copy
            _png_chunk(b"IEND", b""),
        )
    )


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body)
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _rgb(color: tuple[int, int, int]) -> tuple[float, float, float]:
    return tuple(channel / 255 for channel in color)
