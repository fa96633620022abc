"""Reading the audit trail (issue 10 §7): an organizer's filtered, paged view of who changed
what. Writing it is campaign.audit's job."""

import datetime

from campaign.problems import problem
from models import AuditLog

TEXT_FILTERS = ("object_type", "object_id", "actor", "action")
PAGE_MAX = 200


class FiltersInvalid(Exception):
    def __init__(self, problems: list[dict]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def parse_moment(raw: str) -> datetime.datetime | None:
    """An ISO 8601 moment as naive UTC (a naive one is taken as UTC), else None."""
    try:
        moment = datetime.datetime.fromisoformat(raw)
        if moment.tzinfo is not None:
            moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 with an offset
        return None
    return moment


def rows(campaign, args: dict, with_global: bool = False):
    """The campaign's audit rows matching `args` (`object_type`, `object_id`, `actor`,
    `action` — exact, or a prefix ending in `.` such as `entry.` — and `since`/`until`),
    newest first; raise FiltersInvalid listing every bad filter. `with_global` adds the rows
    of no campaign (accounts of every campaign), which only admins read."""
    mine = AuditLog.campaign == campaign
    query = AuditLog.select().where(mine | AuditLog.campaign.is_null() if with_global else mine)
    for name in TEXT_FILTERS:
        value = args.get(name)
        if not value:
            continue
        field = getattr(AuditLog, name)
        query = query.where(field.startswith(value) if value.endswith(".") else field == value)
    problems = []
    for name, compare in (("since", "__ge__"), ("until", "__lt__")):
        if args.get(name):
            moment = parse_moment(args[name])
            if moment is None:
                problems.append(problem(name, "invalid_choice", value=args[name]))
            else:
                query = query.where(getattr(AuditLog.at, compare)(moment))
    if problems:
        raise FiltersInvalid(problems)
    return query.order_by(AuditLog.id.desc())
