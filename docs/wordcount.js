/**
 * countZi(text) - the campaign's 字数 rule, for the mini-program's live counter.
 *
 * This is the reference copy of the server's campaign/wordcount.py (see docs/counting.md).
 * Paste it into the mini-program unchanged (e.g. utils/wordcount.js) and
 *   const { countZi } = require('../../utils/wordcount.js');
 * The server runs the same rule on submit, and a test checks that this file and the server
 * agree on every Unicode code point, so a count shown with this function is the count the
 * server enforces. Do not edit the tables here alone: change the server's first.
 *
 * Rule: whitespace counts 0; each East Asian wide character (CJK ideograph, kana, Hangul,
 * CJK punctuation, full-width form, and “ ” ‘ ’ — … ·) counts 1; each maximal run of other
 * visible characters (a Latin word, a number, an emoji sequence) counts 1; invisible
 * characters (ZWSP, ZWJ, BOM, variation selectors, combining marks …) count 0 and do not
 * break a run.
 *
 * Needs only ES2015 regular expressions with the `u` flag (code-point matching, `\u{…}`
 * escapes): no Unicode property escapes, no lookbehind, no dependencies. Works in the
 * WeChat mini-program engines (JavaScriptCore on iOS, V8 on Android and DevTools), browsers
 * and Node.js.
 */
(function () {
  'use strict';

  // Inclusive code-point ranges, identical to the tables in campaign/wordcount.py.

  var WHITESPACE = [
    [0x0009, 0x000d], // tab, LF, VT, FF, CR
    [0x001c, 0x0020], // information separators (Python's str.isspace() says yes), space
    [0x0085, 0x0085], // next line
    [0x00a0, 0x00a0], // no-break space
    [0x1680, 0x1680], // ogham space mark
    [0x2000, 0x200a], // en quad … hair space
    [0x2028, 0x2029], // line separator, paragraph separator
    [0x202f, 0x202f], // narrow no-break space
    [0x205f, 0x205f], // medium mathematical space
    [0x3000, 0x3000], // ideographic space (full-width space)
  ];

  // Invisible: count 0, never start or end a run.
  var INVISIBLE = [
    [0x0000, 0x0008], // C0 controls that are not whitespace
    [0x000e, 0x001b],
    [0x007f, 0x0084], // DEL, C1 controls
    [0x0086, 0x009f],
    [0x00ad, 0x00ad], // soft hyphen
    [0x0300, 0x036f], // combining diacritical marks (incl. U+034F grapheme joiner)
    [0x061c, 0x061c], // Arabic letter mark
    [0x115f, 0x11ff], // Hangul fillers; medial vowel and final consonant jamo
    [0x17b4, 0x17b5], // Khmer inherent vowels
    [0x180b, 0x180f], // Mongolian variation selectors, vowel separator
    [0x1ab0, 0x1aff], // combining diacritical marks extended
    [0x1dc0, 0x1dff], // combining diacritical marks supplement
    [0x200b, 0x200f], // ZWSP, ZWNJ, ZWJ, LRM, RLM
    [0x202a, 0x202e], // bidi embeddings and overrides
    [0x2060, 0x206f], // word joiner, invisible operators, bidi isolates
    [0x20d0, 0x20ff], // combining marks for symbols (incl. U+20E3 keycap)
    [0x302a, 0x302f], // ideographic and Hangul tone marks (combining)
    [0x3099, 0x309a], // combining kana voiced / semi-voiced sound marks
    [0x3164, 0x3164], // Hangul filler
    [0xd7b0, 0xd7ff], // Hangul jamo extended-B (medial vowels, final consonants)
    [0xfe00, 0xfe0f], // variation selectors (VS16 = emoji presentation)
    [0xfe20, 0xfe2f], // combining half marks
    [0xfeff, 0xfeff], // zero-width no-break space / byte order mark
    [0xffa0, 0xffa0], // half-width Hangul filler
    [0xfff0, 0xfff8], // reserved default-ignorable code points
    [0x1bca0, 0x1bca3], // shorthand format controls
    [0x1d173, 0x1d17a], // musical symbol format controls
    [0xe0000, 0xe0fff], // tags (subdivision flags), variation selectors supplement (IVS)
  ];

  // Wide: count 1 each and end a run.
  var WIDE = [
    [0x00b7, 0x00b7], // · middle dot (间隔号)
    [0x1100, 0x115e], // Hangul leading consonant jamo
    [0x2014, 0x2014], // — em dash (破折号 is ——)
    [0x2018, 0x2019], // ‘ ’
    [0x201c, 0x201d], // “ ”
    [0x2026, 0x2026], // … (省略号 is ……)
    [0x2e80, 0x2fdf], // CJK radicals supplement, Kangxi radicals
    [0x2ff0, 0x2fff], // ideographic description characters
    [0x3001, 0x3029], // CJK symbols and punctuation (U+3000 is whitespace) …
    [0x3030, 0x303f], // … minus the combining tone marks U+302A–U+302F
    [0x3040, 0x3098], // hiragana …
    [0x309b, 0x3163], // … katakana, Bopomofo, Hangul compatibility jamo …
    [0x3165, 0x31ff], // … Kanbun, Bopomofo extended, CJK strokes, katakana extensions
    [0x3200, 0x33ff], // enclosed CJK letters and months, CJK compatibility
    [0x3400, 0x4dbf], // CJK unified ideographs extension A
    [0x4e00, 0x9fff], // CJK unified ideographs
    [0xa000, 0xa4cf], // Yi syllables and radicals
    [0xa960, 0xa97f], // Hangul jamo extended-A (leading consonants)
    [0xac00, 0xd7af], // Hangul syllables
    [0xf900, 0xfaff], // CJK compatibility ideographs
    [0xfe10, 0xfe1f], // vertical forms
    [0xfe30, 0xfe6f], // CJK compatibility forms, small form variants
    [0xff01, 0xff9f], // full-width ASCII and brackets; half-width CJK punctuation, katakana
    [0xffa1, 0xffdc], // half-width Hangul
    [0xffe0, 0xffe6], // full-width signs ￠ ￡ ￢ ￣ ￤ ￥ ￦
    [0x1aff0, 0x1b16f], // kana extended-B, kana supplement, kana extended-A, small kana
    [0x20000, 0x3fffd], // planes 2 and 3: CJK extensions B–J, compatibility supplement
  ];

  function charClass(ranges) {
    var out = '';
    for (var i = 0; i < ranges.length; i++) {
      var lo = '\\u{' + ranges[i][0].toString(16) + '}';
      var hi = '\\u{' + ranges[i][1].toString(16) + '}';
      out += ranges[i][0] === ranges[i][1] ? lo : lo + '-' + hi;
    }
    return out;
  }

  var S = charClass(WHITESPACE);
  var W = charClass(WIDE);
  var I = charClass(INVISIBLE);

  // One match per counted unit: a single wide character, or a run that starts with a visible
  // non-wide character and continues through visible or invisible non-wide characters.
  // The `u` flag makes the classes match whole code points, so an ideograph outside the
  // Basic Multilingual Plane (a surrogate pair in JavaScript) counts once, not twice.
  var UNIT = new RegExp('[' + W + ']|[^' + S + W + I + '][^' + S + W + ']*', 'gu');

  /**
   * @param {string} text
   * @returns {number} the 字数 of text, as the server counts it
   */
  function countZi(text) {
    if (typeof text !== 'string') {
      throw new TypeError('countZi() expects a string, not ' + typeof text);
    }
    var units = text.match(UNIT);
    return units === null ? 0 : units.length;
  }

  if (typeof module !== 'undefined' && module.exports) {
    module.exports = { countZi: countZi }; // mini-program, Node.js
  } else if (typeof window !== 'undefined') {
    window.countZi = countZi; // <script src="wordcount.js"> in a web page
  }
})();
