"""The value rules of subscribe-message keywords (thing, number, time, ...).

WeChat refuses a send with 47003 `argument invalid! data.<key>.value invalid` when a value
breaks the rule of its keyword's type. Templates in the sandbox declare each key's type so the
same rules apply here; they follow WeChat's subscribe-message documentation, and lengths count
characters (a Chinese character is one).
"""

import re
from collections.abc import Callable
from datetime import datetime

CJK = "\u4e00-\u9fff"
DATE_FORMATS = ("%Y年%m月%d日", "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d")
TIME_FORMATS = ("%H:%M", "%H:%M:%S")
RANGE_SEPARATOR = "~"


def _pattern(regex: str, max_length: int) -> Callable[[str], bool]:
    compiled = re.compile(regex)
    return lambda value: len(value) <= max_length and compiled.fullmatch(value) is not None


def _parses(value: str, formats: tuple[str, ...]) -> bool:
    for fmt in formats:
        try:
            datetime.strptime(value, fmt)
        except ValueError:
            continue
        return True
    return False


def _is_moment(value: str, alone: tuple[str, ...]) -> bool:
    """A date followed by a time, or `alone` (bare times for `time`, bare dates for `date`)."""
    date_part, _, time_part = value.partition(" ")
    if time_part and _parses(date_part, DATE_FORMATS) and _parses(time_part, TIME_FORMATS):
        return True
    return _parses(value, alone)


def _moments(alone: tuple[str, ...]) -> Callable[[str], bool]:
    """One moment, or a range of two joined by "~" (WeChat allows both for time and date)."""
    return lambda value: all(
        _is_moment(part.strip(), alone) for part in value.split(RANGE_SEPARATOR, 1)
    )


def _is_name(value: str) -> bool:
    """Up to 10 characters if any is Chinese, else up to 20 letters or symbols."""
    if re.search(r"\d", value):
        return False
    return len(value) <= (10 if re.search(f"[{CJK}]", value) else 20)


RULES: dict[str, Callable[[str], bool]] = {
    "thing": lambda value: len(value) <= 20,
    "number": _pattern(r"[+-]?\d+(\.\d+)?", 32),
    "letter": _pattern(r"[A-Za-z]+", 32),
    "symbol": _pattern(r"[^\w\s]+", 5),
    "character_string": _pattern(r"[\x21-\x7e]+", 32),
    "time": _moments(TIME_FORMATS),
    "date": _moments(DATE_FORMATS),
    "amount": _pattern(r"[¥￥$€£]?\d{1,10}(\.\d+)?元?", 32),
    "phone_number": _pattern(r"[\d+\-() ]+", 17),
    "car_number": _pattern(f"[{CJK}]?[A-Za-z0-9]+[{CJK}]?", 8),
    "name": _is_name,
    "phrase": _pattern(f"[{CJK}]+", 5),
}


def invalid_key(keys: dict[str, str], data: dict) -> str | None:
    """The first declared key whose `data[key]["value"]` is missing or breaks its type's rule."""
    for key, kind in keys.items():
        value = _value(data.get(key))
        if not value or not RULES[kind](value):
            return key
    return None


def _value(entry: object) -> str | None:
    value = entry.get("value") if isinstance(entry, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else None
