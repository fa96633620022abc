"""Near-duplicate entries: the same case sent twice through two routes, or copied.

Each submitted entry gets a MinHash signature of its text (5-character shingles, after
dropping whitespace and punctuation, so re-formatting does not hide a copy). Comparing
signatures estimates the Jaccard similarity of two texts; pairs above THRESHOLD are
recorded for organizers and put in one `duplicate_group`. Nothing here ever blocks a unit.
"""

import hashlib
import random
import re

from campaign.entries import status
from models import DuplicatePair, Entry, db

SHINGLE = 5
HASHES = 64
THRESHOLD = 0.5
_PRIME = (1 << 61) - 1
_rng = random.Random(20211031)  # fixed: signatures must stay comparable across processes
_PARAMS = [(_rng.randrange(1, _PRIME), _rng.randrange(0, _PRIME)) for _ in range(HASHES)]
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
COMPARED = (
    status.SUBMITTED,
    status.ENDORSED,
    status.RETURNED,
    status.UNDER_REVIEW,
    status.SHORTLISTED,
    status.AWARDED,
    status.NOT_SELECTED,
)


def shingles(text: str) -> set[int]:
    """Hashes of every 5-character window of the text's letters, digits and ideographs."""
    core = _NOISE.sub("", text)
    windows = (
        {core[i : i + SHINGLE] for i in range(max(len(core) - SHINGLE + 1, 1))} if core else set()
    )
    return {int.from_bytes(hashlib.blake2b(w.encode(), digest_size=8).digest()) for w in windows}


def signature(text: str) -> list[int]:
    """The MinHash signature (HASHES integers) of a text."""
    hashed = shingles(text)
    if not hashed:
        return [_PRIME] * HASHES
    return [min((a * h + b) % _PRIME for h in hashed) for a, b in _PARAMS]


def similarity(one: list[int], two: list[int]) -> float:
    """Estimated Jaccard similarity of the two texts behind the signatures."""
    return sum(x == y for x, y in zip(one, two, strict=True)) / HASHES


def entry_text(entry: Entry) -> str:
    return "".join(
        getattr(entry, name) or ""
        for name in ("abstract", "background", "approach", "results", "significance")
    )


def find_duplicates(entry: Entry) -> list[tuple[int, float]]:
    """Fingerprint `entry`, compare it with the campaign's other submitted entries, and
    record every pair above THRESHOLD; return `(other id, similarity)` pairs."""
    mine = signature(entry_text(entry))
    others = Entry.select(Entry.id, Entry.fingerprint, Entry.duplicate_group).where(
        (Entry.campaign == entry.campaign_id)
        & (Entry.id != entry.id)
        & Entry.status.in_(COMPARED)
        & Entry.fingerprint.is_null(False)
    )
    matches = [(o, similarity(mine, o.fingerprint)) for o in others]
    matches = [(o, s) for o, s in matches if s >= THRESHOLD]
    with db.atomic():
        Entry.update(fingerprint=mine).where(Entry.id == entry.id).execute()
        if matches:
            involved = [entry] + [other for other, _ in matches]
            groups = {e.duplicate_group for e in involved if e.duplicate_group}
            group = min(groups | {str(e.id) for e in involved}, key=int)
            Entry.update(duplicate_group=group).where(
                Entry.id.in_([e.id for e in involved]) | Entry.duplicate_group.in_(groups or {""})
            ).execute()
            for other, score in matches:
                DuplicatePair.insert(entry=entry.id, other=other.id, similarity=score).on_conflict(
                    conflict_target=[DuplicatePair.entry, DuplicatePair.other],
                    update={DuplicatePair.similarity: score},
                ).execute()
    return [(o.id, s) for o, s in matches]
