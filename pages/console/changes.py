"""What changed in an entry's text, for people: field by field, character by character
(Chinese has no spaces to split words on). Shared by the organizer's revision history and
the department's "changed since you returned it"."""

import difflib

from campaign.entries.operations import TEXT_FIELDS

FIELD_LABELS = {
    "title": "标题",
    "abstract": "摘要",
    "background": "背景",
    "approach": "做法",
    "results": "成效",
    "significance": "意义",
}


def text_diff(old: str, new: str) -> list[tuple[str, str]]:
    """Pieces `(same|del|ins, text)` that turn `old` into `new`."""
    pieces = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, old, new).get_opcodes():
        if op == "equal":
            pieces.append(("same", old[a1:a2]))
            continue
        if a2 > a1:
            pieces.append(("del", old[a1:a2]))
        if b2 > b1:
            pieces.append(("ins", new[b1:b2]))
    return pieces


def field_changes(before: dict, after: dict) -> list[dict]:
    """`[{field (Chinese label), pieces}]` for each text field that differs."""
    changes = []
    for name in TEXT_FIELDS:
        old, new = str(before.get(name, "") or ""), str(after.get(name, "") or "")
        if old != new:
            changes.append({"field": FIELD_LABELS[name], "pieces": text_diff(old, new)})
    return changes
