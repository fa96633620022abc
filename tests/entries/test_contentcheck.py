"""How entry text is cut for WeChat's msgSecCheck and how verdicts combine."""

from campaign.entries.contentcheck import LIMIT, entry_pieces, split_text, worst
from models import Entry


def test_short_text_is_one_piece_and_blank_text_none():
    assert split_text("一段话。") == ["一段话。"]
    assert split_text("") == [] and split_text("  \n ") == []


def test_long_text_is_cut_after_a_sentence_end_without_losing_anything():
    sentence = "党建引领基层治理。"  # 9 characters
    text = sentence * 600  # 5,400 characters
    pieces = split_text(text)
    assert "".join(pieces) == text
    assert all(len(piece) <= LIMIT for piece in pieces)
    assert all(piece.endswith("。") for piece in pieces)
    assert len(pieces) == 3


def test_without_a_sentence_end_in_the_second_half_the_cut_is_hard():
    text = "甲。" + "乙" * 6000
    pieces = split_text(text, limit=1000)
    assert [len(p) for p in pieces[:-1]] == [1000] * 6
    assert "".join(pieces) == text


def test_a_sentence_end_late_in_the_window_is_used():
    text = "甲" * 800 + "！" + "乙" * 400
    assert [len(p) for p in split_text(text, limit=1000)] == [801, 400]


def test_entry_pieces_cover_title_abstract_and_every_element(campaign):
    entry = Entry(title="标题", abstract="摘要", background="背景" * 2000, approach="",
                  results="成效", significance="意义")  # fmt: skip
    pieces = entry_pieces(entry)
    assert pieces[0] == "标题\n摘要"
    assert "".join(pieces[1:-2]) == "背景" * 2000
    assert pieces[-2:] == ["成效", "意义"]
    assert all(len(p) <= LIMIT for p in pieces)


def test_the_worst_verdict_wins_and_unknown_ones_count_as_risky():
    assert worst([]) == "pass"
    assert worst(["pass", "review", "pass"]) == "review"
    assert worst(["review", "risky", "pass"]) == "risky"
    assert worst(["pass", "weird"]) == "weird"
