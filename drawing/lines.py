"""Breaking Chinese text into lines of a given width, the way Chinese typesetting does it.

Chinese breaks between any two characters, but closing punctuation never starts a line (避头)
and opening punctuation never ends one (避尾); a run of Latin letters or digits (a number, a
year, a URL) stays whole unless it is longer than a line. fpdf2's own character wrapping does
neither, and re-measures the growing line for every character (quadratic in a paragraph:
half a second per case of the casebook); this measures each character once.
"""

from collections.abc import Callable

NO_LINE_START = "，。、；：！？）》」』”’〕】…—·%,.;:!?)]}"
NO_LINE_END = "（《「『“‘〔【([{"


def _latin(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char in "-_./:@")


def wrap(text: str, room: float, width_of: Callable[[str], float]) -> list[str]:
    """`text` (one paragraph) as lines no wider than `room`, measured with `width_of(char)`."""
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    for char in text:
        width = width_of(char)
        if current and used + width > room:
            carried = _carry(current, char)
            lines.append("".join(current[: len(current) - carried]))
            current = current[len(current) - carried :]
            used = sum(width_of(c) for c in current)
        current.append(char)
        used += width
    if current:
        lines.append("".join(current))
    return lines


def _carry(current: list[str], char: str) -> int:
    """How many characters of the full line move down with `char`, so that neither line breaks
    a rule; 0 when no rule can be kept without emptying the line."""
    carried = 0
    if char in NO_LINE_START:
        carried = 1  # the character before it goes down with it
    elif _latin(char):
        while carried < len(current) and _latin(current[-1 - carried]):
            carried += 1
    while carried < len(current) and current[-1 - carried] in NO_LINE_END:
        carried += 1
    return carried if carried < len(current) else 0
