"""Time at the edges: the database holds naive UTC, people read the campaign's local time."""

import datetime
from zoneinfo import ZoneInfo


def to_local(moment: datetime.datetime, timezone: str) -> datetime.datetime:
    """Naive UTC → aware local time in `timezone`."""
    return moment.replace(tzinfo=datetime.UTC).astimezone(ZoneInfo(timezone))


def iso_local(moment: datetime.datetime | None, timezone: str) -> str | None:
    """ISO 8601 with the local offset (e.g. `2021-10-31T23:59:59+08:00`), or None."""
    return None if moment is None else to_local(moment, timezone).isoformat()
