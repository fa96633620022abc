"""Content security of entry text: how it is cut for WeChat, and how verdicts combine.

msgSecCheck v2 takes at most 2,500 characters, so a 5,000-字 body goes in pieces, cut at
paragraph or sentence ends where possible so that no phrase straddles two pieces.
"""

from models import Entry

LIMIT = 2500
SENTENCE_ENDS = "\n。！？；!?;"
SEVERITY = {"pass": 0, "review": 1, "risky": 2}


def split_text(text: str, limit: int = LIMIT) -> list[str]:
    """Pieces of at most `limit` characters, cut after a sentence end when one is near."""
    pieces = []
    while len(text) > limit:
        window = text[:limit]
        cut = max(window.rfind(mark) for mark in SENTENCE_ENDS) + 1
        if cut < limit // 2:  # no sentence end in the second half: cut hard
            cut = limit
        pieces.append(text[:cut])
        text = text[cut:]
    if text.strip():
        pieces.append(text)
    return pieces


def entry_pieces(entry: Entry) -> list[str]:
    """Everything a unit wrote in an entry, as pieces WeChat accepts."""
    head = "\n".join(part for part in (entry.title, entry.abstract) if part)
    pieces = split_text(head)
    for element in (entry.background, entry.approach, entry.results, entry.significance):
        pieces += split_text(element or "")
    return pieces


def worst(verdicts: list[str]) -> str:
    """The most severe of `pass`/`review`/`risky` (an empty list passes)."""
    return max(verdicts, key=lambda v: SEVERITY.get(v, 2), default="pass")
