"""Count 字数 the way Word and WPS users see it (DESIGN §2, "Counting 字数").

Entries have length limits (abstract 200–300 字, body 3,000–5,000 字) that units check at
home in Word or WPS before they paste the text into the mini-program. If the server counted
differently - ``len(text)``, or Latin words by letters - a text that reads "3,012 字" in
Word could be rejected at submit. This module is the single place the rule lives; the
limits themselves are enforced at submit by the caller, not here.

The rule, per character of the text:

* whitespace (everything ``str.isspace()`` accepts: spaces, tabs, CR/LF, NBSP, U+2000–U+200A,
  U+202F, U+205F, U+3000, line/paragraph separators …) counts 0 and ends a run;
* East Asian "wide" characters - CJK ideographs (every block, incl. the supplementary
  planes 2 and 3), kana, Hangul, Bopomofo, Yi, CJK punctuation and symbols, vertical,
  compatibility and small forms, full- and half-width forms, and the Chinese punctuation
  “ ” ‘ ’ — … · - count 1 each and end a run;
* invisible characters (Unicode's Default_Ignorable_Code_Point set: ZWSP, ZWNJ, ZWJ, word
  joiner, BOM, variation selectors, tags …, C0/C1 controls other than whitespace, and
  combining marks) count 0 and do *not* end a run, so an emoji ZWJ sequence or a word
  with a stray ZWSP in it stays one run;
* every maximal run of anything else (a Latin word, ``2021``, ``abc,``, an emoji sequence)
  counts 1.

``docs/counting.md`` explains each decision; ``docs/wordcount.js`` is the same rule for the
mini-program's live counter, kept identical by ``tests/test_wordcount.py``.
"""

import re

__all__ = ["count_zi"]

# Inclusive code-point ranges. docs/wordcount.js lists exactly the same ranges; the parity
# test compares the two implementations on every code point, so change both together.

_WHITESPACE = (
    (0x0009, 0x000D),  # tab, LF, VT, FF, CR
    (0x001C, 0x0020),  # information separators (str.isspace() says yes), space
    (0x0085, 0x0085),  # next line
    (0x00A0, 0x00A0),  # no-break space
    (0x1680, 0x1680),  # ogham space mark
    (0x2000, 0x200A),  # en quad … hair space
    (0x2028, 0x2029),  # line separator, paragraph separator
    (0x202F, 0x202F),  # narrow no-break space
    (0x205F, 0x205F),  # medium mathematical space
    (0x3000, 0x3000),  # ideographic space (full-width space)
)

# Zero-width: count 0, never start or end a run. The three tables are disjoint (a test
# checks); _WIDE skips the few invisible code points that sit inside wide blocks.
_INVISIBLE = (
    (0x0000, 0x0008),  # C0 controls that are not whitespace
    (0x000E, 0x001B),
    (0x007F, 0x0084),  # DEL, C1 controls
    (0x0086, 0x009F),
    (0x00AD, 0x00AD),  # soft hyphen
    (0x0300, 0x036F),  # combining diacritical marks (incl. U+034F grapheme joiner)
    (0x061C, 0x061C),  # Arabic letter mark
    (0x115F, 0x11FF),  # Hangul fillers; medial vowel and final consonant jamo
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian variation selectors, vowel separator
    (0x1AB0, 0x1AFF),  # combining diacritical marks extended
    (0x1DC0, 0x1DFF),  # combining diacritical marks supplement
    (0x200B, 0x200F),  # ZWSP, ZWNJ, ZWJ, LRM, RLM
    (0x202A, 0x202E),  # bidi embeddings and overrides
    (0x2060, 0x206F),  # word joiner, invisible operators, bidi isolates
    (0x20D0, 0x20FF),  # combining marks for symbols (incl. U+20E3 keycap)
    (0x302A, 0x302F),  # ideographic and Hangul tone marks (combining)
    (0x3099, 0x309A),  # combining kana voiced / semi-voiced sound marks
    (0x3164, 0x3164),  # Hangul filler
    (0xD7B0, 0xD7FF),  # Hangul jamo extended-B (medial vowels, final consonants)
    (0xFE00, 0xFE0F),  # variation selectors (VS16 = emoji presentation)
    (0xFE20, 0xFE2F),  # combining half marks
    (0xFEFF, 0xFEFF),  # zero-width no-break space / byte order mark
    (0xFFA0, 0xFFA0),  # half-width Hangul filler
    (0xFFF0, 0xFFF8),  # reserved default-ignorable code points
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical symbol format controls
    (0xE0000, 0xE0FFF),  # tags (subdivision flags), variation selectors supplement (IVS)
)

# Count 1 each and end a run.
_WIDE = (
    (0x00B7, 0x00B7),  # · middle dot (间隔号, as in 阿沛·阿旺晋美)
    (0x1100, 0x115E),  # Hangul leading consonant jamo
    (0x2014, 0x2014),  # — em dash (破折号 is ——)
    (0x2018, 0x2019),  # ‘ ’
    (0x201C, 0x201D),  # “ ”
    (0x2026, 0x2026),  # … (省略号 is ……)
    (0x2E80, 0x2FDF),  # CJK radicals supplement, Kangxi radicals
    (0x2FF0, 0x2FFF),  # ideographic description characters
    (0x3001, 0x3029),  # CJK symbols and punctuation (U+3000 is whitespace) …
    (0x3030, 0x303F),  # … minus the combining tone marks U+302A–U+302F
    (0x3040, 0x3098),  # hiragana …
    (0x309B, 0x3163),  # … katakana, Bopomofo, Hangul compatibility jamo …
    (0x3165, 0x31FF),  # … Kanbun, Bopomofo extended, CJK strokes, katakana extensions
    (0x3200, 0x33FF),  # enclosed CJK letters and months, CJK compatibility
    (0x3400, 0x4DBF),  # CJK unified ideographs extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA000, 0xA4CF),  # Yi syllables and radicals
    (0xA960, 0xA97F),  # Hangul jamo extended-A (leading consonants)
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFE10, 0xFE1F),  # vertical forms
    (0xFE30, 0xFE6F),  # CJK compatibility forms, small form variants
    (0xFF01, 0xFF9F),  # full-width ASCII and brackets; half-width CJK punctuation, katakana
    (0xFFA1, 0xFFDC),  # half-width Hangul
    (0xFFE0, 0xFFE6),  # full-width signs ￠ ￡ ￢ ￣ ￤ ￥ ￦
    (0x1AFF0, 0x1B16F),  # kana extended-B, kana supplement, kana extended-A, small kana
    (0x20000, 0x3FFFD),  # planes 2 and 3: CJK extensions B–J, compatibility supplement
)


def _char_class(ranges: tuple[tuple[int, int], ...]) -> str:
    """The inside of a regex character class matching ``ranges``."""
    parts = []
    for lo, hi in ranges:
        parts.append(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}")
    return "".join(parts)


_S = _char_class(_WHITESPACE)
_W = _char_class(_WIDE)
_I = _char_class(_INVISIBLE)

# Wide characters count one each; matching them in stretches keeps the number of matches
# (the cost that dominates) low for Chinese text.
_WIDE_STRETCH = re.compile(f"[{_W}]+")
# A run starts at a visible character that is neither whitespace nor wide and continues
# through visible or invisible non-wide characters; each run counts 1.
_RUN = re.compile(f"[^{_S}{_W}{_I}][^{_S}{_W}]*")


def count_zi(text: str) -> int:
    """Return the 字数 of ``text`` (see the module docstring for the rule).

    >>> count_zi("2021年4月，福建省开展活动。")
    13
    """
    if not isinstance(text, str):
        raise TypeError(f"count_zi() expects str, not {type(text).__name__}")
    return sum(map(len, _WIDE_STRETCH.findall(text))) + len(_RUN.findall(text))
