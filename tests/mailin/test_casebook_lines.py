"""Chinese line breaking for the casebook: 避头, 避尾, whole numbers, nothing lost."""

from drawing.lines import NO_LINE_END, NO_LINE_START, wrap


def width_of(char: str) -> float:
    return 0.5 if char.isascii() else 1.0


def test_closing_punctuation_never_starts_a_line_and_opening_never_ends_one():
    text = "一二三四五。六七八九（十一二三四，五六七八“九十”一二三四五六、七八九十。" * 3
    lines = wrap(text, 5, width_of)
    assert "".join(lines) == text
    assert all(sum(map(width_of, line)) <= 5 for line in lines)
    assert not [line for line in lines[1:] if line[0] in NO_LINE_START]
    assert not [line for line in lines if line[-1] in NO_LINE_END]


def test_numbers_stay_whole_unless_longer_than_a_line():
    assert wrap("一二三四2021年", 5, width_of) == ["一二三四", "2021年"]
    assert wrap("x" * 12, 3, width_of) == ["xxxxxx", "xxxxxx"]
    assert wrap("", 5, width_of) == []
