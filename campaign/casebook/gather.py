"""What goes into the casebook: the winning cases, grouped by award then domain, each with
its text, up to N chosen photos and the published 专家点评.

Cases are yielded one at a time with their photos already shrunk (≤ PHOTO_EDGE px JPEG), so
a build holds the book being drawn plus one case's originals, never all the originals at once
(`docs/casebook.md` states the bounds).
"""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from peewee import JOIN

from campaign.definition import options
from campaign.entries.evidence import BY_MIME, EvidenceRefused, render_thumbnail
from campaign.entries.status import AWARDED
from campaign.mailin.rules import AWARDS, award_of
from campaign.problems import is_row_id, is_whole_number, problem
from campaign.review.comments import published_comment
from models import Attachment, Campaign, Decision, Entry, Unit
from storage import StorageError, get_storage

PHOTO_EDGE = 1200  # px: sharp at 120 mm wide in print, ~150 KB as JPEG
MAX_PHOTOS = 6
DEFAULT_PHOTOS = 2
AWARD_ORDER = ("brand", "case")
MESSAGES = {"invalid_value": "请填写 0 到 6 之间的整数", "invalid_type": "格式不正确"}


def published_comment_for(entry_id: int) -> str | None:
    """The 专家点评 the organizer chose to publish for this entry, signed as they chose
    (e.g. ——专家组点评), or None when none was published."""
    comment = published_comment(entry_id)
    if comment is None:
        return None
    return (
        f"{comment['text']}——{comment['attribution']}"
        if comment["attribution"]
        else comment["text"]
    )


@dataclass(frozen=True)
class Book:
    """What the cover says."""

    title: str
    organizer: str
    counts: tuple[tuple[str, int], ...]  # (award label, number of cases)
    date: str


@dataclass(frozen=True)
class Case:
    entry_id: int
    title: str
    unit: str
    region: str
    award: str
    award_label: str
    domain: str
    domain_label: str
    abstract: str
    elements: tuple[tuple[str, str], ...]  # (label, text) of 背景, 做法, 成效, 意义
    photos: tuple[bytes, ...]  # JPEG
    comment: str | None

    @property
    def heading(self) -> tuple[str, str]:
        return self.award_label, self.domain_label


def check_options(data) -> tuple[dict, list[dict]]:
    """`{"photos_per_case": 0..6, "photos": {"<entry id>": [attachment ids]}}`, cleaned."""
    data = data if isinstance(data, dict) else {}
    problems, clean = [], {"photos_per_case": DEFAULT_PHOTOS, "photos": {}}
    count = data.get("photos_per_case", DEFAULT_PHOTOS)
    if is_whole_number(count) and 0 <= count <= MAX_PHOTOS:
        clean["photos_per_case"] = count
    else:
        problems.append(problem("photos_per_case", "invalid_value", MESSAGES))
    chosen = data.get("photos", {})
    valid = isinstance(chosen, dict) and all(
        str(key).isdigit() and isinstance(ids, list) and all(map(is_row_id, ids))
        for key, ids in chosen.items()
    )
    if valid:
        clean["photos"] = {str(key): ids for key, ids in chosen.items()}
    else:
        problems.append(problem("photos", "invalid_type", MESSAGES))
    return clean, problems


def winning_entries(campaign: Campaign) -> list[Entry]:
    """The winners in book order: brands before cases, domains as the plan lists them."""
    domains = {o.code: i for i, o in enumerate(options(campaign, "domain"))}
    rows = list(
        Entry.select(Entry, Unit, Decision.award)
        .join(Unit)
        .switch(Entry)
        .join(Decision, JOIN.LEFT_OUTER)
        .where((Entry.campaign == campaign) & (Entry.status == AWARDED))
        .order_by(Entry.id)
    )
    return sorted(rows, key=lambda e: (_award_rank(award_of(e)), domains.get(e.domain, 99), e.id))


def _award_rank(award: str) -> int:
    return AWARD_ORDER.index(award) if award in AWARD_ORDER else len(AWARD_ORDER)


class PhotoCache:
    """Shrunk photos kept on disk for the build's second document: shrinking is the slowest
    step of a case, and the disk, unlike memory, has room for every photo of the book."""

    def __init__(self, folder: Path):
        self.folder = folder

    def shrunk(self, attachment: Attachment, storage) -> bytes | None:
        path = self.folder / f"{attachment.id}.jpg"
        if path.exists():
            return path.read_bytes()
        photo = _shrunk(attachment, storage)
        if photo:
            path.write_bytes(photo)
        return photo


def cases(
    campaign: Campaign,
    choices: dict,
    entries: list[Entry] | None = None,
    photo_cache: PhotoCache | None = None,
) -> Iterator[Case]:
    """Each winning case, ready to draw, in book order."""
    domains = {o.code: o.label for o in options(campaign, "domain")}
    elements = [(o.code, o.label) for o in options(campaign, "element")]
    for entry in winning_entries(campaign) if entries is None else entries:
        award = award_of(entry)
        yield Case(
            entry_id=entry.id,
            title=entry.title,
            unit=entry.unit.name,
            region=entry.unit.region,
            award=award,
            award_label=AWARDS.get(award, award),
            domain=entry.domain,
            domain_label=domains.get(entry.domain, entry.domain or "其他"),
            abstract=entry.abstract,
            elements=tuple((label, getattr(entry, code, "") or "") for code, label in elements),
            photos=tuple(photos_of(entry.id, choices, photo_cache)),
            comment=published_comment_for(entry.id),
        )


def photos_of(entry_id: int, choices: dict, cache: PhotoCache | None = None) -> Iterator[bytes]:
    """Up to N photos: the organizer's choice for this entry, else the first ones uploaded;
    never one WeChat's check flagged as risky. A photo that cannot be read is skipped."""
    limit = choices.get("photos_per_case", DEFAULT_PHOTOS)
    chosen = choices.get("photos", {}).get(str(entry_id))
    query = Attachment.select().where(
        (Attachment.entry == entry_id)
        & (Attachment.kind == "photo")
        & Attachment.storage_key.is_null(False)
        & (Attachment.check_status != "risky")
    )
    found = {a.id: a for a in query.order_by(Attachment.id)}
    order = [i for i in chosen if i in found] if chosen is not None else list(found)
    storage, given = get_storage(), 0
    for attachment_id in order:
        if given >= limit:
            return
        attachment = found[attachment_id]
        photo = cache.shrunk(attachment, storage) if cache else _shrunk(attachment, storage)
        if photo:
            given += 1
            yield photo


def _shrunk(attachment: Attachment, storage) -> bytes | None:
    file_type = BY_MIME.get(attachment.mime)
    if file_type is None or not file_type.image_format:
        return None
    try:
        with storage.open(attachment.storage_key) as stream:
            return render_thumbnail(stream, file_type.image_format, PHOTO_EDGE).getvalue()
    except (StorageError, EvidenceRefused, OSError):
        return None


def preview_entry(campaign: Campaign, entry_id: int) -> Entry | None:
    """One winning entry, for previewing its section before building the whole book."""
    return next((e for e in winning_entries(campaign) if e.id == entry_id), None)


def book_info(campaign: Campaign, outline: list[Case], today: datetime.date) -> Book:
    """The cover: campaign, organizer, how many cases of each award, the date."""
    counts: dict[str, int] = {}
    for case in outline:
        counts[case.award_label] = counts.get(case.award_label, 0) + 1
    return Book(
        title=campaign.title,
        organizer=(campaign.contact or {}).get("organizer") or campaign.organizer,
        counts=tuple(counts.items()),
        date=f"{today.year}年{today.month}月",
    )


def text_only(campaign: Campaign, entries: list[Entry]) -> list[Case]:
    """The cases without photos: enough to know the book's characters and its contents."""
    return list(cases(campaign, {"photos_per_case": 0, "photos": {}}, entries))
