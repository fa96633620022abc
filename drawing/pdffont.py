"""The Chinese font of generated PDFs whose text must stay text (searchable, copyable).

Posters draw their text as outlines (`drawing.cjkfont`); forms and the casebook cannot: people
copy from them and search them, and tests read them back. The project's font (Noto Sans SC,
found by `drawing.cjkfont.font_path`) has CID-keyed CFF outlines, which fpdf2 embeds with an
embedded encoding CMap that several readers (pypdf among them) cannot map back to Unicode.
So each document gets its own subset of the font, only the characters it uses, converted to
TrueType outlines (fontTools' cu2qu), which fpdf2 embeds as Identity-H with a ToUnicode map
that every reader understands. A form's subset takes ~0.2 s; a 300-case book's (~3,500
characters) ~2 s, and the embedded font stays small either way.
"""

import io
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.subset import Options, Subsetter
from fontTools.ttLib import TTFont, newTable
from fpdf import FPDF

from drawing.cjkfont import font_path

FONT = "cjk"  # the family name documents set their text in
ALWAYS = " 0123456789-—–·.:：,，、()（）/《》「」“”…%#第页共"  # layout text we add ourselves
DROPPED = ["VORG", "vhea", "vmtx", "BASE", "GPOS", "GSUB", "DSIG", "JSTF"]
MAXP_ZEROS = (
    "maxZones maxTwilightPoints maxStorage maxFunctionDefs maxInstructionDefs "
    "maxStackElements maxSizeOfInstructions maxComponentElements"
).split()


@cache
def _font_bytes() -> bytes:
    return font_path().read_bytes()


def subset_ttf(text: str) -> bytes:
    """A TrueType-outline font with just the glyphs of `text` (and our own layout text)."""
    font = TTFont(io.BytesIO(_font_bytes()), fontNumber=0)
    options = Options()
    options.desubroutinize = True
    options.notdef_outline = True
    options.hinting = False
    options.layout_features = []
    options.drop_tables += DROPPED
    subsetter = Subsetter(options)
    subsetter.populate(unicodes={ord(char) for char in set(text) | set(ALWAYS)})
    subsetter.subset(font)
    if "CFF " in font:
        _to_truetype(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _to_truetype(font: TTFont) -> None:
    """Replace CFF (cubic) outlines by `glyf` (quadratic) ones, within 1 font unit."""
    glyphs, order = font.getGlyphSet(), font.getGlyphOrder()
    glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    del font["CFF "]
    font["glyf"], font["loca"] = glyf, newTable("loca")
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for name in MAXP_ZEROS:
        setattr(maxp, name, 0)
    maxp.maxZones = 1
    font["maxp"] = maxp
    font["head"].glyphDataFormat = 0
    post = font["post"]
    post.formatType, post.extraNames, post.mapping = 2.0, [], {}
    font.sfntVersion = "\x00\x01\x00\x00"


@contextmanager
def font_file(text: str) -> Iterator[str]:
    """The subset as a temporary .ttf file (fpdf2 reads fonts from paths), removed after."""
    handle, path = tempfile.mkstemp(suffix=".ttf")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(subset_ttf(text))
        yield path
    finally:
        os.unlink(path)


def render(new_pdf: Callable[[], FPDF], draw: Callable[[FPDF], None], text: str) -> bytes:
    """Draw a document with the font subset of `text` under the family `FONT`. Should the
    drawing use a character outside it (a label nobody listed), draw once more with it."""
    for attempt in range(2):
        with font_file(text) as path:
            pdf = new_pdf()
            pdf.add_font(FONT, fname=path)
            draw(pdf)
            missing = pdf.fonts[FONT].missing_glyphs
            if not missing or attempt:
                return bytes(pdf.output())
            pdf.fonts[FONT].close()  # this draft is thrown away: let go of its font file
        text += "".join(map(chr, missing))
    raise AssertionError("unreachable")
