"""Who a notice goes to: an audience filter, checked, and turned into WeChat users.

`{"group": "units", "status": [...], "route": [...], "department": [...], "domain": [...],
"region": [...]}` selects unit contacts (and people who opened the campaign but never
registered a unit); `department_users` selects the users bound to departments, `experts` the
experts with a WeChat identity, and `users` an explicit list of user ids. Filters of one kind
are alternatives ("any of"); different kinds must all match. Each person gets one delivery,
even when they have both a mini-program and an official-account identity (same unionid).
"""

from collections import namedtuple

from campaign.channels.recommending import VISIBLE_CHECKS
from campaign.definition import options
from campaign.entries import status as entry_status
from campaign.mailin import rules as mailin
from campaign.notices.problems import is_row_id, is_scalar, notice_problem
from models import (
    Account,
    Assignment,
    Attribution,
    Campaign,
    Department,
    DepartmentMember,
    Entry,
    MailIn,
    Unit,
    WechatUser,
)

Recipient = namedtuple("Recipient", "user_id app unionid")

UNIT_STATUSES = ("no_unit", "no_entry", "draft_only", "submitted", "returned", "mailin_pending")
STATUSES = {
    "units": UNIT_STATUSES,
    "department_users": ("endorsement_pending",),
    "experts": ("review_pending",),
    "users": (),
}
FILTERS = {
    "units": ("status", "route", "department", "domain", "region"),
    "department_users": ("status", "route", "department", "region"),
    "experts": ("status",),
    "users": ("users",),
}
SUBMITTED_ONWARDS = {
    entry_status.SUBMITTED,
    entry_status.ENDORSED,
    entry_status.UNDER_REVIEW,
    entry_status.SHORTLISTED,
    entry_status.AWARDED,
    entry_status.NOT_SELECTED,
}
MAX_EXPLICIT_USERS = 10_000
DEFAULT_ROUTE = "online"  # people who never came through a department's code


def check_audience(campaign: Campaign, audience) -> tuple[dict, list]:
    """The filter with its group made explicit, and every problem with it."""
    if not isinstance(audience, dict):
        return {}, [notice_problem("audience", "invalid_type")]
    group = audience.get("group") or ("users" if "users" in audience else "units")
    if not isinstance(group, str) or group not in FILTERS:
        return {}, [notice_problem("audience.group", "invalid_choice", choices=list(FILTERS))]
    clean, problems = {"group": group}, []
    allowed = _allowed_values(campaign, group)
    for name, value in audience.items():
        if name == "group":
            continue
        where = f"audience.{name}"
        if name not in FILTERS[group]:
            problems.append(notice_problem(where, "conflicting", group=group))
        elif not isinstance(value, list) or not value or not all(map(is_scalar, value)):
            problems.append(notice_problem(where, "invalid_type"))
        elif name == "users" and len(value) > MAX_EXPLICIT_USERS:
            problems.append(notice_problem(where, "too_many", max=MAX_EXPLICIT_USERS))
        else:
            choices = allowed[name](value)
            unknown = [item for item in value if item not in choices]
            if unknown:
                problems.append(notice_problem(where, "invalid_choice", values=unknown[:20]))
            clean[name] = sorted(set(value), key=str)
    if group == "users" and "users" not in clean and not problems:
        problems.append(notice_problem("audience.users", "required"))
    return clean, problems


def _allowed_values(campaign: Campaign, group: str) -> dict:
    """Each filter's legal values (given what was asked for), computed only when used."""
    return {
        "status": lambda _: STATUSES[group],
        "route": lambda _: {o.code for o in options(campaign, "route")},
        "domain": lambda _: {o.code for o in options(campaign, "domain")},
        "region": lambda _: set(campaign.regions or ()),
        "department": lambda _: {
            department_id
            for (department_id,) in Department.select(Department.id)
            .where(Department.campaign == campaign)
            .tuples()
        },
        "users": _existing_user_ids,
    }


def _existing_user_ids(asked: list) -> set[int]:
    ids = [item for item in asked if is_row_id(item)]
    found = WechatUser.select(WechatUser.id).where(WechatUser.id.in_(ids)).tuples()
    return {user_id for (user_id,) in found}


def recipients(campaign: Campaign, audience: dict) -> list[int]:
    """User ids of a checked audience, one per person, in id order."""
    finders = {
        "units": _unit_people,
        "department_users": _department_people,
        "experts": _experts,
        "users": _explicit_users,
    }
    return one_per_person(finders[audience["group"]](campaign, audience))


def one_per_person(people) -> list[int]:
    """Keep one identity per unionid (the mini-program one, which subscribe messages reach)."""
    chosen, loners = {}, set()
    for person in people:
        if not person.unionid:
            loners.add(person.user_id)
            continue
        best = chosen.get(person.unionid)
        if best is None or (person.app, -person.user_id) > (best.app, -best.user_id):
            chosen[person.unionid] = person  # "wxa" > "mp", then the oldest identity
    return sorted(loners | {person.user_id for person in chosen.values()})


def _people(query) -> list[Recipient]:
    return [Recipient(*row) for row in query.tuples()]


def _unit_people(campaign: Campaign, audience: dict) -> list[Recipient]:
    wanted = set(audience.get("status") or UNIT_STATUSES)
    firsts = _first_touches(campaign)
    found = []
    units = (
        Unit.select(
            Unit.id, Unit.region, Unit.domain, WechatUser.id, WechatUser.app, WechatUser.unionid
        )
        .join(WechatUser)
        .where((Unit.campaign == campaign) & Unit.merged_into.is_null())
        .tuples()
    )
    statuses = _unit_statuses(campaign)
    owners = set()
    for unit_id, region, domain, *person in units:
        owner = Recipient(*person)
        owners.add(owner.unionid or owner.user_id)
        if not (wanted & statuses.get(unit_id, {"no_entry"})):
            continue
        if _matches(audience, firsts.get(owner.user_id), region=region, domain=domain):
            found.append(owner)
    if "no_unit" in wanted and not ({"domain", "region"} & set(audience)):
        for person in _attributed_people(campaign):
            if (person.unionid or person.user_id) not in owners and _matches(
                audience, firsts.get(person.user_id)
            ):
                found.append(person)
    return found


def _matches(audience: dict, first_touch, **unit_fields) -> bool:
    route, department = first_touch or (DEFAULT_ROUTE, None)
    checks = {"route": route, "department": department, **unit_fields}
    return all(value in audience[name] for name, value in checks.items() if name in audience)


def _first_touches(campaign: Campaign) -> dict[int, tuple]:
    """user id → (route, department id) of their first touch in the campaign."""
    rows = Attribution.select(Attribution.user, Attribution.route, Attribution.department).where(
        Attribution.campaign == campaign
    )
    return {user: (route, department) for user, route, department in rows.tuples()}


def _attributed_people(campaign: Campaign) -> list[Recipient]:
    return _people(
        WechatUser.select(WechatUser.id, WechatUser.app, WechatUser.unionid)
        .join(Attribution)
        .where(Attribution.campaign == campaign)
    )


def _unit_statuses(campaign: Campaign) -> dict[int, set[str]]:
    """unit id → the audience statuses it is in (units without entries are absent)."""
    entries: dict[int, set[str]] = {}
    awarded: dict[int, set[int]] = {}
    for unit_id, entry_id, state in (
        Entry.select(Entry.unit, Entry.id, Entry.status).where(Entry.campaign == campaign).tuples()
    ):
        entries.setdefault(unit_id, set()).add(state)
        if state == entry_status.AWARDED:
            awarded.setdefault(unit_id, set()).add(entry_id)
    received = {
        entry_id
        for (entry_id,) in MailIn.select(MailIn.entry)
        .join(Entry)
        .where((Entry.campaign == campaign) & MailIn.status.not_in(mailin.NOT_YET_IN))
        .tuples()
    }
    return {
        unit_id: _statuses_of(states, bool(awarded.get(unit_id, set()) - received))
        for unit_id, states in entries.items()
    }


def _statuses_of(states: set[str], mailin_pending: bool) -> set[str]:
    found = set()
    if not states - {entry_status.WITHDRAWN}:
        found.add("no_entry")
    if states & SUBMITTED_ONWARDS:
        found.add("submitted")
    elif entry_status.DRAFT in states and entry_status.RETURNED not in states:
        found.add("draft_only")
    if entry_status.RETURNED in states:
        found.add("returned")
    if mailin_pending:
        found.add("mailin_pending")
    return found


def _department_people(campaign: Campaign, audience: dict) -> list[Recipient]:
    departments = Department.select(Department.id).where(
        (Department.campaign == campaign) & Department.active
    )
    for name, column in (
        ("department", Department.id),
        ("route", Department.route),
        ("region", Department.region),
    ):
        if name in audience:
            departments = departments.where(column.in_(audience[name]))
    if "endorsement_pending" in audience.get("status", ()):
        waiting = Entry.select(Entry.department).where(
            (Entry.campaign == campaign)
            & (Entry.status == entry_status.SUBMITTED)
            & Entry.content_check.in_(VISIBLE_CHECKS)
        )
        departments = departments.where(Department.id.in_(waiting))
    return _people(
        WechatUser.select(WechatUser.id, WechatUser.app, WechatUser.unionid)
        .join(DepartmentMember)
        .where(DepartmentMember.department.in_(departments))
        .distinct()
    )


def _experts(campaign: Campaign, audience: dict) -> list[Recipient]:
    experts = Account.select(Account.wechat_user).where(
        (Account.role == "expert")
        & Account.active
        & (Account.campaign == campaign)
        & Account.wechat_user.is_null(False)
    )
    if "review_pending" in audience.get("status", ()):
        unfinished = (
            Assignment.select(Assignment.expert)
            .join(Entry)
            .where((Entry.campaign == campaign) & Assignment.submitted_at.is_null())
        )
        experts = experts.where(Account.id.in_(unfinished))
    return _people(
        WechatUser.select(WechatUser.id, WechatUser.app, WechatUser.unionid).where(
            WechatUser.id.in_(experts)
        )
    )


def _explicit_users(campaign: Campaign, audience: dict) -> list[Recipient]:
    return _people(
        WechatUser.select(WechatUser.id, WechatUser.app, WechatUser.unionid).where(
            WechatUser.id.in_(audience["users"])
        )
    )


def describe(campaign: Campaign, user_ids: list[int]) -> list[dict]:
    """A few recipients as an organizer recognizes them: unit, region, department."""
    units = {
        unit.owner_id: unit
        for unit in Unit.select().where((Unit.campaign == campaign) & Unit.owner.in_(user_ids))
    }
    departments = {
        member.user_id: member.department.name
        for member in DepartmentMember.select(DepartmentMember, Department)
        .join(Department)
        .where((Department.campaign == campaign) & DepartmentMember.user.in_(user_ids))
    }
    return [
        {
            "user_id": user_id,
            "unit": units[user_id].name if user_id in units else None,
            "region": units[user_id].region if user_id in units else None,
            "department": departments.get(user_id),
        }
        for user_id in user_ids
    ]
