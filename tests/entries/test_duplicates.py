"""Near-duplicate detection: copies are flagged with their similarity, distinct texts are not."""

import random

from campaign.entries import duplicates
from models import DuplicatePair, Entry, Unit, WechatUser

CHARS = "党建引领乡村振兴社区治理服务群众组织建设创新实践基层干部经验做法成效意义推广"


def text(seed: int, length: int = 3200) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(CHARS) for _ in range(length))


def submitted(campaign, openid: str, body: str) -> Entry:
    user = WechatUser.create(app="wxa", openid=openid)
    unit = Unit.create(campaign=campaign, owner=user, name=openid)
    return Entry.create(
        campaign=campaign,
        unit=unit,
        owner=user,
        route="online",
        status="submitted",
        background=body,
    )


def test_identical_texts_score_one_and_distinct_texts_near_zero():
    one, two = text(1), text(2)
    assert duplicates.similarity(duplicates.signature(one), duplicates.signature(one)) == 1.0
    assert duplicates.similarity(duplicates.signature(one), duplicates.signature(two)) < 0.2


def test_reformatting_does_not_hide_a_copy():
    original = text(3)
    reformatted = "\n\n".join(original[i : i + 80] for i in range(0, len(original), 80))
    reformatted = reformatted.replace("党", "党 ")
    score = duplicates.similarity(duplicates.signature(original), duplicates.signature(reformatted))
    assert score >= 0.9


def test_a_copy_sent_through_two_routes_is_flagged_with_the_pair(campaign, run_jobs):
    original = submitted(campaign, "o-a", text(4))
    unrelated = submitted(campaign, "o-b", text(5))
    copied = text(4)[:3000] + text(6, 200)  # mostly the same, a new ending
    copy = submitted(campaign, "o-c", copied)
    for entry in (original, unrelated, copy):
        duplicates.find_duplicates(Entry.get_by_id(entry.id))
    pairs = [(p.entry_id, p.other_id) for p in DuplicatePair.select()]
    assert pairs == [(copy.id, original.id)]
    pair = DuplicatePair.get()
    assert 0.7 <= pair.similarity < 1.0
    groups = {e.id: e.duplicate_group for e in Entry.select()}
    assert groups[copy.id] == groups[original.id] == str(original.id)
    assert groups[unrelated.id] is None


def test_groups_merge_when_a_new_copy_links_them(campaign):
    """Two groups that never met (built elsewhere) become one when a copy matches both."""
    shared = text(7)
    a, x = submitted(campaign, "o-a", shared), submitted(campaign, "o-x", text(8))
    b, y = submitted(campaign, "o-b", shared), submitted(campaign, "o-y", text(9))
    for entry in (a, x, b, y):
        entry.fingerprint = duplicates.signature(duplicates.entry_text(entry))
    for member, group in ((a, a.id), (x, a.id), (b, b.id), (y, b.id)):
        Entry.update(fingerprint=member.fingerprint, duplicate_group=str(group)).where(
            Entry.id == member.id
        ).execute()
    copy = submitted(campaign, "o-copy", shared)
    found = dict(duplicates.find_duplicates(Entry.get_by_id(copy.id)))
    assert set(found) == {a.id, b.id}
    assert {e.duplicate_group for e in Entry.select()} == {str(a.id)}
