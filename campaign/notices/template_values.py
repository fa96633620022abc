"""What a WeChat message template accepts, checked before anything is sent.

WeChat refuses a whole send with 47003 when one value breaks the rule of its keyword's type
(`thing` ≤ 20 characters, `phrase` ≤ 5 Chinese characters, …), so a notice's values are
checked here when it is composed and every problem is listed at once. A keyword's type is
its name without the trailing number (`thing1` → `thing`), as WeChat names them, unless the
template's field mapping says otherwise. Lengths count characters (a Chinese character is 1).
"""

import datetime
import re
from collections.abc import Callable
from zoneinfo import ZoneInfo

from campaign.notices.problems import notice_problem

CJK = "\u4e00-\u9fff"
DATE_FORMATS = ("%Y年%m月%d日", "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d")
TIME_FORMATS = ("%H:%M", "%H:%M:%S")
FREE_TEXT_MAX = 200  # old-style keywordN fields of official-account templates
KEYWORD_NAME = re.compile(r"[A-Za-z_]+\d*")
MAX_LENGTHS = {
    "thing": 20,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "character_string": 32,
    "phrase": 5,
    "phone_number": 17,
    "car_number": 8,
    "amount": 32,
}


def _fullmatch(pattern: str) -> Callable[[str], bool]:
    compiled = re.compile(pattern)
    return lambda value: compiled.fullmatch(value) is not None


def _parses(value: str, formats: tuple[str, ...]) -> bool:
    for fmt in formats:
        try:
            datetime.datetime.strptime(value, fmt)
        except ValueError:
            continue
        return True
    return False


def _moment(value: str, alone: tuple[str, ...]) -> bool:
    """A date and a time, or `alone` (a bare time for `time`, a bare date for `date`)."""
    day, _, clock = value.strip().partition(" ")
    if clock and _parses(day, DATE_FORMATS) and _parses(clock.strip(), TIME_FORMATS):
        return True
    return _parses(value.strip(), alone)


def _moments(alone: tuple[str, ...]) -> Callable[[str], bool]:
    """One moment, or a period of two joined by "~", as WeChat allows for time and date."""
    return lambda value: all(_moment(part, alone) for part in value.split("~", 1))


def _name(value: str) -> bool:
    """Up to 10 characters with Chinese, else up to 20 letters; never digits."""
    if re.search(r"\d", value):
        return False
    return len(value) <= (10 if re.search(f"[{CJK}]", value) else 20)


FORMATS: dict[str, Callable[[str], bool]] = {
    "thing": lambda value: True,
    "number": _fullmatch(r"[+-]?\d+(\.\d+)?"),
    "letter": _fullmatch(r"[A-Za-z]+"),
    "symbol": _fullmatch(r"[^\w\s]+"),
    "character_string": _fullmatch(r"[\x21-\x7e]+"),
    "time": _moments(TIME_FORMATS),
    "date": _moments(DATE_FORMATS),
    "amount": _fullmatch(r"[¥￥$]?\d{1,10}(\.\d{1,2})?元?"),
    "phone_number": _fullmatch(r"[\d+\-() ]+"),
    "car_number": _fullmatch(f"[{CJK}]?[A-Za-z0-9]+[{CJK}]?"),
    "name": _name,
    "phrase": _fullmatch(f"[{CJK}]+"),
    "text": lambda value: len(value) <= FREE_TEXT_MAX,
}
TYPES = tuple(FORMATS)

# Values the service can fill in by itself, so automatic reminders need no typing.
CAMPAIGN_SOURCES = ("campaign_title", "deadline", "deadline_date", "days_left", "organizer")
# Values of one entry, filled in by campaign.notices.status_messages for messages about that entry.
ENTRY_SOURCES = ("entry_title", "entry_status", "entry_note", "entry_time")
SOURCES = CAMPAIGN_SOURCES + ENTRY_SOURCES


def keyword_type(key: str, declared: str | None = None) -> str:
    """`thing1` → `thing`; a declared type wins; anything unknown is free text."""
    if isinstance(declared, str) and declared in FORMATS:
        return declared
    prefix = key.rstrip("0123456789")
    return prefix if prefix in FORMATS else "text"


def check_value(field: str, kind: str, value) -> dict | None:
    """The problem with one value under its type's rule, or None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        return notice_problem(field, "required")
    limit = MAX_LENGTHS.get(kind)
    if limit is not None and len(value) > limit:
        return notice_problem(field, "too_long", count=len(value), max=limit)
    if not FORMATS[kind](value):
        return notice_problem(field, "invalid_format", type=kind)
    return None


def auto_value(source: str, campaign, now: datetime.datetime) -> str:
    """A value the service computes: the campaign's title, its deadline, days left…"""
    closes = campaign.closes_at.replace(tzinfo=datetime.UTC).astimezone(ZoneInfo(campaign.timezone))
    today = now.replace(tzinfo=datetime.UTC).astimezone(ZoneInfo(campaign.timezone)).date()
    values = {
        "campaign_title": campaign.title,
        "deadline": f"{closes:%Y年%m月%d日 %H:%M}",
        "deadline_date": f"{closes:%Y年%m月%d日}",
        "days_left": f"{max((closes.date() - today).days, 0)}天",
        "organizer": campaign.organizer,
    }
    return values.get(source, "")  # an entry's value outside a message about an entry


def render(fields: dict, values: dict, campaign, now: datetime.datetime) -> tuple[dict, list]:
    """Fill every keyword of a template (given value, else fixed value, else source) and check
    each; return (data to send, problems)."""
    data, problems = {}, []
    for key, spec in fields.items():
        value = values.get(key)
        if value is None or value == "":
            value = spec.get("value") or (
                auto_value(spec["source"], campaign, now) if spec.get("source") else None
            )
        found = check_value(f"values.{key}", keyword_type(key, spec.get("type")), value)
        if found:
            problems.append(found)
        else:
            data[key] = str(value)
    return data, problems
