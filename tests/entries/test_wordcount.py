"""The 字数 rule (DESIGN §2): edge cases, properties, and parity with docs/wordcount.js."""

import json
import random
import shutil
import subprocess
import time
import unicodedata
from pathlib import Path

import pytest

from campaign.entries import wordcount
from campaign.entries.wordcount import count_zi

ROOT = Path(__file__).resolve().parents[2]
WORDCOUNT_JS = ROOT / "docs" / "wordcount.js"

# A realistic paragraph of a case text: Chinese with CJK punctuation, curly quotes, a year,
# Latin words, a decimal percentage and a Latin letter glued to an ideograph. 50 字:
# 2021|年|，|某县委组织部|围绕|“|新时代|，|新党建|，|新作为|”|主题|，|推动|GDP|增长|12.5%|，|在|
# WeChat|小程序|上线|“|党建|e|家|”|平台|。
PARAGRAPH = (
    "2021年，某县委组织部围绕“新时代，新党建，新作为”主题，推动GDP增长12.5%，"
    "在WeChat小程序上线“党建e家”平台。"
)
# A body at the 5,000-字 maximum, as pasted from Word: full-width-space indents, CRLF breaks.
BODY_5000 = "\r\n".join("\u3000\u3000" + PARAGRAPH for _ in range(100))

CASES = [
    # (text, expected count, what it shows)
    ("2021年4月，福建省开展活动。", 13, "DESIGN §2 example"),
    ("", 0, "empty string"),
    (" \t\r\n\u3000\xa0", 0, "whitespace only"),
    ("新时代新党建新作为", 9, "pure Chinese"),
    ("新时代，新党建，新作为", 11, "campaign theme with CJK commas"),
    ("“两学一做”学习教育：成效显著！", 16, "CJK punctuation and curly quotes"),
    ("《人民日报》【案例】、；：", 13, "CJK brackets and marks"),
    ("Party building in the new era", 6, "English words"),
    ("abc中文def", 4, "ideographs end a Latin run"),
    ("WeChat小程序", 4, "Latin word glued to Chinese"),
    ("GDP增长12.5%", 4, "number with decimal point and percent is one run"),
    ("3,000–5,000字", 2, "ASCII comma and en dash stay inside the run"),
    ("Word 2019版", 3, "number then ideograph"),
    ("Hello, world!", 2, "ASCII punctuation sticks to its word"),
    ("福建,厦门", 5, "ASCII comma between ideographs is a run of its own"),
    ("２０２１", 4, "full-width digits count one each"),
    ("２０２１年", 5, "full-width digits then ideograph"),
    ("ＣＰＣ", 3, "full-width letters count one each"),
    ("（一）", 3, "full-width parentheses"),
    ("￥100", 2, "full-width yen sign, then a number"),
    ("ｶﾀｶﾅ｡", 5, "half-width katakana and punctuation"),
    ("“新时代”", 5, "curly double quotes"),
    ("‘党建’", 4, "curly single quotes"),
    ("党建——引领", 6, "破折号 is two em dashes"),
    ("等等……", 4, "省略号 is two ellipses"),
    ("阿沛·阿旺晋美", 7, "middle dot 间隔号"),
    ("don’t", 3, "curly apostrophe splits an English word"),
    ("don't", 1, "ASCII apostrophe does not"),
    ("It’s a case", 5, "curly apostrophe in a sentence"),
    ('"quoted" text', 2, "ASCII double quotes stick to the word"),
    ("👍", 1, "emoji"),
    ("👍🏽", 1, "emoji with skin-tone modifier"),
    ("🏽", 1, "standalone skin-tone modifier is visible"),
    ("中🏽", 2, "skin-tone modifier after an ideograph"),
    ("👨\u200d👩\u200d👧", 1, "ZWJ family sequence"),
    ("👩🏽\u200d💻", 1, "ZWJ sequence with modifier"),
    ("❤\ufe0f", 1, "emoji presentation selector"),
    ("1\ufe0f\u20e3", 1, "keycap sequence"),
    ("😀😀😀", 1, "adjacent emoji form one run"),
    ("😀 😀", 2, "space-separated emoji"),
    ("好👍棒", 3, "emoji between ideographs"),
    ("点赞👍👍", 3, "ideographs then emoji run"),
    ("🇨🇳", 1, "flag (regional indicator pair)"),
    ("🇨🇳🇫🇷", 1, "adjacent flags form one run"),
    ("中国🇨🇳", 3, "flag after ideographs"),
    ("🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", 1, "tag-sequence flag"),
    ("Привет мир", 2, "Cyrillic words"),
    ("مرحبا بالعالم", 2, "Arabic words"),
    ("αβγ δ", 2, "Greek words"),
    ("ひらがなカタカナ", 8, "kana count one each"),
    ("カ\u3099", 1, "kana with combining voiced mark"),
    ("ｶﾞ", 2, "half-width voiced mark is a spacing character"),
    ("안녕하세요", 5, "Hangul syllables"),
    ("\u1112\u1161\u11ab", 1, "decomposed Hangul syllable"),
    ("\u3400", 1, "CJK extension A"),
    ("𠮷野家", 3, "extension B ideograph (outside the BMP)"),
    ("\U0002a700\U0002b740\U0002b820\U0002ceb0", 4, "extensions C, D, E, F"),
    ("\U00030000\U00031350", 2, "extensions G, H"),
    ("\uf900\U0002f800", 2, "compatibility ideographs"),
    ("⺀⼀", 2, "radicals"),
    ("葛\U000e0100", 1, "ideographic variation sequence"),
    ("︽︾﹐", 3, "vertical, compatibility and small forms"),
    ("㈠㎡", 2, "enclosed CJK and CJK compatibility"),
    ("a\xa0b", 2, "NBSP separates"),
    ("中\xa0文", 2, "NBSP between ideographs counts 0"),
    ("2021\xa0年", 2, "NBSP after a number"),
    ("a\u2002b\u2003c\u2009d\u200ae", 5, "en, em, thin and hair spaces"),
    ("a\u202fb\u205fc", 3, "narrow NBSP and medium mathematical space"),
    ("a\u3000b", 2, "ideographic space"),
    ("a\u2028b\u2029c", 3, "line and paragraph separators"),
    ("a\x85b\u1680c", 3, "next line and ogham space"),
    ("ab\u200bcd", 1, "ZWSP does not break a run"),
    ("中\u200b文", 2, "ZWSP between ideographs counts 0"),
    ("\u200b", 0, "lone ZWSP"),
    ("\ufeffabc", 1, "leading BOM"),
    ("a\u2060b", 1, "word joiner"),
    ("a\u200cb", 1, "ZWNJ"),
    ("a\xadb", 1, "soft hyphen"),
    ("\u200b\u200c\u200d\u2060\ufeff\ufe0f", 0, "only invisible characters"),
    ("a\u200b b", 2, "ZWSP next to a space"),
    ("e\u0301t\u0301e\u0301", 1, "decomposed accents stay in the word"),
    ("\u0301", 0, "lone combining mark"),
    ("a\x00b\x7f", 1, "control characters are invisible"),
    ("\u3164\uffa0", 0, "Hangul fillers are invisible"),
    ("第一段\r\n第二段", 6, "CRLF"),
    ("one\r\ntwo\rthree\nfour", 4, "CRLF, CR and LF"),
    ("one\r\n\r\ntwo\r\n", 2, "blank lines and trailing CRLF"),
    ("a\tb", 2, "tab"),
    ("项目\t成效", 4, "tab between ideographs"),
    ("\t\t", 0, "tabs only"),
    ("https://www.people.com.cn/n1/index.html", 1, "URL is one run"),
    ("user@example.com", 1, "e-mail address is one run"),
    (PARAGRAPH, 50, "realistic paragraph"),
    (BODY_5000, 5000, "5,000-字 body pasted from Word"),
]


@pytest.mark.parametrize(("text", "expected"), [c[:2] for c in CASES], ids=[c[2] for c in CASES])
def test_count(text, expected):
    assert count_zi(text) == expected


@pytest.mark.parametrize("value", [None, b"abc", 42, ["a"]])
def test_non_string_is_a_type_error(value):
    with pytest.raises(TypeError):
        count_zi(value)


def test_str_subclass_is_accepted():
    class Text(str):
        pass

    assert count_zi(Text("新党建 ok")) == 4


def test_body_counts_fast():
    assert len(BODY_5000) > 5000
    best = min(_timed(count_zi, BODY_5000) for _ in range(30))
    # Typically ~0.1 ms; the bound only catches an accidental per-character Python loop.
    assert best < 0.005, f"counting a 5,000-字 body took {best * 1000:.2f} ms"


def _timed(fn, arg):
    start = time.perf_counter()
    fn(arg)
    return time.perf_counter() - start


# --- classes of every code point, seen only through count_zi -------------------------------

SPACE, WIDE, INVISIBLE, OTHER = "S", "W", "I", "O"
_SIGNATURES = {(0, 2): SPACE, (1, 3): WIDE, (0, 1): INVISIBLE, (1, 1): OTHER}


def _classify(count) -> str:
    """One class letter per code point, from how ``count`` treats it alone and inside a word."""
    letters = []
    for cp in range(0x110000):
        ch = chr(cp)
        letters.append(_SIGNATURES[count(ch), count("a" + ch + "a")])
    return "".join(letters)


@pytest.fixture(scope="module")
def classes() -> str:
    return _classify(count_zi)


def test_whitespace_is_exactly_str_isspace(classes):
    spaces = {cp for cp, c in enumerate(classes) if c == SPACE}
    assert spaces == {cp for cp in range(0x110000) if chr(cp).isspace()}


@pytest.mark.parametrize(
    "name_prefix",
    [
        "CJK UNIFIED IDEOGRAPH-",
        "CJK COMPATIBILITY IDEOGRAPH-",
        "HIRAGANA LETTER ",
        "KATAKANA LETTER ",
        "HALFWIDTH KATAKANA LETTER ",
        "HANGUL SYLLABLE ",
        "BOPOMOFO LETTER ",
        "IDEOGRAPHIC ",
        "FULLWIDTH ",
        "SMALL ",
        "PRESENTATION FORM FOR VERTICAL ",
        "KANGXI RADICAL ",
        "CJK RADICAL ",
    ],
)
def test_named_east_asian_characters_are_wide(classes, name_prefix):
    wrong = [
        f"U+{cp:04X} {unicodedata.name(chr(cp))}"
        for cp in range(0x110000)
        if unicodedata.name(chr(cp), "").startswith(name_prefix)
        and classes[cp] != WIDE
        and not chr(cp).isspace()  # IDEOGRAPHIC SPACE
        and unicodedata.category(chr(cp)) not in ("Mn", "Mc")  # combining marks are invisible
        and (name_prefix != "SMALL " or 0xFE50 <= cp <= 0xFE6F)  # only small form variants
        and not 0x1D360 <= cp <= 0x1D37F  # IDEOGRAPHIC TALLY MARK …: counting-rod numerals
    ]
    assert wrong == []


def test_every_fullwidth_character_is_wide(classes):
    fullwidth = [
        cp
        for cp in range(0x110000)
        if unicodedata.category(chr(cp)) != "Cn" and unicodedata.east_asian_width(chr(cp)) == "F"
    ]
    assert [f"U+{cp:04X}" for cp in fullwidth if classes[cp] != WIDE] == ["U+3000"]


def test_zero_width_characters_are_invisible(classes):
    zero_width = [0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, *range(0xFE00, 0xFE10), 0xE0100]
    assert {classes[cp] for cp in zero_width} == {INVISIBLE}
    # Emoji modifiers are ordinary visible characters: they join a run but never vanish.
    assert {classes[cp] for cp in range(0x1F3FB, 0x1F400)} == {OTHER}


def test_range_tables_are_sorted_and_disjoint():
    tables = (wordcount._WHITESPACE, wordcount._INVISIBLE, wordcount._WIDE)
    for table in tables:
        assert all(lo <= hi for lo, hi in table)
        assert all(a[1] < b[0] for a, b in zip(table, table[1:], strict=False))
    covered = [set(range(lo, hi + 1)) for table in tables for lo, hi in table]
    assert sum(map(len, covered)) == len(set().union(*covered))


# --- properties on generated strings ------------------------------------------------------

# Samples of each class, so random strings hit every transition between classes.
_ALPHABET = {
    SPACE: [" ", "\t", "\r\n", "\n", "\xa0", "\u3000", "\u2003", "\u202f"],
    WIDE: ["中", "文", "，", "。", "“", "”", "—", "…", "·", "２", "Ａ", "あ", "한", "𠮷", "︽"],
    INVISIBLE: ["\u200b", "\u200d", "\ufeff", "\u2060", "\ufe0f", "\u0301", "\U000e0100"],
    OTHER: ["a", "Z", "7", ".", ",", "'", "%", "👍", "🏽", "🇨", "я", "ب", "\ud800"],
}
_EVERY_SAMPLE = [s for samples in _ALPHABET.values() for s in samples]


def _random_texts(n: int, seed: int = 2021) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choices(_EVERY_SAMPLE, k=rng.randint(0, 40))) for _ in range(n)]


def _reference_count(text: str) -> int:
    """The rule as a plain per-character loop, to check the regex implementation."""

    def cls(ch: str) -> str:
        cp = ord(ch)
        for letter, table in (
            (SPACE, wordcount._WHITESPACE),
            (WIDE, wordcount._WIDE),
            (INVISIBLE, wordcount._INVISIBLE),
        ):
            if any(lo <= cp <= hi for lo, hi in table):
                return letter
        return OTHER

    count, in_run = 0, False
    for ch in text:
        c = cls(ch)
        if c == WIDE:
            count, in_run = count + 1, False
        elif c == SPACE:
            in_run = False
        elif c == OTHER and not in_run:
            count, in_run = count + 1, True
    return count


def test_matches_reference_loop():
    for text in _random_texts(2000):
        assert count_zi(text) == _reference_count(text), repr(text)


def test_whitespace_and_wide_characters_split_additively():
    texts = _random_texts(400, seed=7)
    for a, b in zip(texts, texts[1:], strict=False):
        for space in _ALPHABET[SPACE]:
            assert count_zi(a + space + b) == count_zi(a) + count_zi(b)
        for wide in _ALPHABET[WIDE]:
            assert count_zi(a + wide + b) == count_zi(a) + 1 + count_zi(b)


def test_inserting_invisible_characters_changes_nothing():
    rng = random.Random(11)
    for text in _random_texts(500, seed=11):
        chars = list(text)
        for _ in range(rng.randint(1, 5)):
            chars.insert(rng.randint(0, len(chars)), rng.choice(_ALPHABET[INVISIBLE]))
        assert count_zi("".join(chars)) == count_zi(text), repr(text)


# --- parity with the mini-program reference implementation --------------------------------

# Reads {"texts": [...]} on stdin; prints the counts, whether countZi rejects non-strings,
# and the class letter of every code point (same signatures as _classify above).
_NODE_DRIVER = """
const { countZi } = require(%s);
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const counts = input.texts.map(countZi);
const rejects = [null, undefined, 42, ['a']].every((v) => {
  try { countZi(v); return false; } catch (e) { return e instanceof TypeError; }
});
const signatures = { '0,2': 'S', '1,3': 'W', '0,1': 'I', '1,1': 'O' };
const letters = [];
for (let cp = 0; cp < 0x110000; cp++) {
  const ch = String.fromCodePoint(cp);
  letters.push(signatures[countZi(ch) + ',' + countZi('a' + ch + 'a')] || '?');
}
process.stdout.write(JSON.stringify({ counts, rejects, classes: letters.join('') }));
"""


@pytest.fixture(scope="module")
def node_results():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH: cannot check docs/wordcount.js against count_zi")
    texts = [c[0] for c in CASES] + _random_texts(2000, seed=99)
    proc = subprocess.run(
        [node, "-e", _NODE_DRIVER % json.dumps(str(WORDCOUNT_JS))],
        input=json.dumps({"texts": texts}),  # ASCII-only JSON: lone surrogates survive
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return texts, json.loads(proc.stdout)


def test_js_matches_python_on_cases_and_generated_texts(node_results):
    texts, results = node_results
    mismatches = [
        (text, count_zi(text), js)
        for text, js in zip(texts, results["counts"], strict=True)
        if count_zi(text) != js
    ]
    assert mismatches == []


def test_js_classifies_every_code_point_like_python(node_results, classes):
    js_classes = node_results[1]["classes"]
    assert len(js_classes) == len(classes)
    pairs = zip(classes, js_classes, strict=True)
    diff = [f"U+{cp:04X}: py {p}, js {j}" for cp, (p, j) in enumerate(pairs) if p != j]
    assert diff[:20] == []


def test_js_rejects_non_strings(node_results):
    assert node_results[1]["rejects"] is True
