"""The Chinese font posters are set in: found once, used by Pillow for PNG and as outlines in PDF.

The font comes from a PyPI package (`pylopdf-fonts-zh-cn`: Noto Sans SC, SIL OFL) so
`make test` needs nothing from the system; `POSTER_FONT` may name another OpenType file, and
Debian's Noto CJK or WenQuanYi fonts are used if the package is missing. PDF text is drawn
as glyph outlines (what print shops call 转曲), so a PDF needs no font wherever it is printed
and looks exactly like the PNG.
"""

import io
from functools import cache
from pathlib import Path

from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont
from PIL import ImageFont
from reportlab.lib.rl_accel import fp_str

from config import current_settings

FONT_ENV = "POSTER_FONT"
SYSTEM_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
PROBE = "党建品牌优秀案例征集扫码"  # a font without these glyphs cannot set a poster


class FontMissing(RuntimeError):
    """No usable CJK font: posters cannot be drawn (the message says how to fix it)."""


def _candidates() -> list[Path]:
    found = []
    if current_settings().poster_font:
        found.append(Path(current_settings().poster_font))
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:
        pass
    else:
        found.append(pylopdf_fonts_zh_cn.sans_path())
    found += [Path(p) for p in SYSTEM_FONTS]
    return found


@cache
def font_path() -> Path:
    """The first candidate that exists and has Chinese glyphs; FontMissing otherwise."""
    for path in _candidates():
        if path.is_file() and _covers(path, PROBE):
            return path
    raise FontMissing(
        "没有可用的中文字体，无法生成海报：请安装 requirements.txt 中的 pylopdf-fonts-zh-cn，"
        f"或把环境变量 {FONT_ENV} 设为含中文字形的 .otf/.ttf/.ttc 文件"
    )


def _covers(path: Path, text: str) -> bool:
    try:
        cmap = _ttfont(path).getBestCmap() or {}
    except Exception:  # not a font fontTools can read: skip it
        return False
    return all(ord(char) in cmap for char in text)


@cache
def _ttfont(path: Path) -> TTFont:
    # Read into memory: a lazily loaded TTFont would keep the file open for the process.
    return TTFont(io.BytesIO(path.read_bytes()), fontNumber=0, lazy=True)


@cache
def pillow_font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's font at `size` pixels (cached: loading a CJK font takes tens of ms)."""
    return ImageFont.truetype(str(font_path()), size, index=0)


class Outlines:
    """Glyph outlines of the poster font, for drawing text as filled paths on a PDF canvas."""

    def __init__(self, path: Path):
        self.font = _ttfont(path)
        self.glyphs = self.font.getGlyphSet()
        self.cmap = self.font.getBestCmap()
        self.advances = self.font["hmtx"].metrics
        self.units_per_em = self.font["head"].unitsPerEm
        self._paths: dict[str, str] = {}

    def _glyph(self, char: str) -> str:
        return self.cmap.get(ord(char), ".notdef")

    def width(self, text: str, size: float) -> float:
        """The advance width of `text` at `size` points."""
        units = sum(self.advances[self._glyph(char)][0] for char in text)
        return units * size / self.units_per_em

    def draw(self, canvas, text: str, x: float, baseline: float, size: float) -> None:
        """Fill `text` at (`x`, `baseline`) in PDF coordinates (y up), in the fill colour set.
        Each glyph is filled from its path in font units (written out once per process) and
        placed by moving the coordinate system: formatting every curve's numbers for every
        poster took most of a poster PDF's time."""
        scale = size / self.units_per_em
        code = [f"q {fp_str(scale, 0, 0, scale, x, baseline)} cm"]
        for char in text:
            name = self._glyph(char)
            code.append(self._path(name))
            code.append(f"1 0 0 1 {fp_str(self.advances[name][0])} 0 cm")
        code.append("Q")
        canvas._code.append(" ".join(code))

    def _path(self, name: str) -> str:
        """The glyph's outline as PDF path operators in font units, filled (non-zero rule)."""
        path = self._paths.get(name)
        if path is None:
            pen = _OperatorPen(self.glyphs)
            self.glyphs[name].draw(pen)
            path = self._paths[name] = " ".join([*pen.code, "f"]) if pen.code else ""
        return path


@cache
def outlines() -> Outlines:
    return Outlines(font_path())


class _CanvasPen(BasePen):
    """fontTools pen → ReportLab path, scaled and moved to the text position."""

    def __init__(self, glyph_set, path, scale: float, dx: float, dy: float):
        super().__init__(glyph_set)
        self.path, self.scale, self.dx, self.dy = path, scale, dx, dy

    def _at(self, point):
        return self.dx + point[0] * self.scale, self.dy + point[1] * self.scale

    def _moveTo(self, point):
        self.path.moveTo(*self._at(point))

    def _lineTo(self, point):
        self.path.lineTo(*self._at(point))

    def _curveToOne(self, first, second, third):
        self.path.curveTo(*self._at(first), *self._at(second), *self._at(third))

    def _closePath(self):
        self.path.close()


class _OperatorPen(BasePen):
    """fontTools pen → PDF path construction operators, in font units."""

    def __init__(self, glyph_set):
        super().__init__(glyph_set)
        self.code: list[str] = []

    def _moveTo(self, point):
        self.code.append(f"{fp_str(*point)} m")

    def _lineTo(self, point):
        self.code.append(f"{fp_str(*point)} l")

    def _curveToOne(self, first, second, third):
        self.code.append(f"{fp_str(*first, *second, *third)} c")

    def _closePath(self):
        self.code.append("h")
