"""Organizers' side of departments and channels: create, check, change, disable.

A department belongs to one of the recommendation routes; the open online route has no
departments, only its own public channels. Every department gets an invite code (binding
its WeChat users) and starts with one channel; more channels (one per poster or sub-unit)
can be added. Codes are random and unguessable (`campaign.channels.codes.new_code`). Every change
is audited in the same transaction. The route of a department is fixed once anyone has come
in through it, because funnel counts were already filed under that route.
"""

import secrets

from peewee import JOIN, IntegrityError

from campaign.attribution import ONLINE_ROUTE
from campaign.audit import record
from campaign.channels.codes import CODE_ALPHABET, new_code
from campaign.definition import options
from campaign.names import clean_name
from campaign.problems import Refused, is_row_id
from campaign.problems import problem as base_problem
from campaign.units import LANDLINE, MOBILE, normalize_phone
from models import (
    Attribution,
    Campaign,
    Channel,
    Department,
    DepartmentMember,
    Touch,
    WechatUser,
    db,
)

INVITE_LENGTH = 12
FIELDS = ("name", "route", "region", "contact_name", "contact_phone")
MAX_LENGTH = {"name": 100, "contact_name": 30, "label": 100}
MESSAGES = {
    "invalid_route": "征集方式无效，应为组织部门推荐、行业部门推荐或党校系统推荐",
    "name_taken": "已有同名的推荐单位",
    "unknown_parent": "上级单位不存在",
    "parent_cycle": "上级单位不能是本单位或其下级单位",
    "invalid_type": "格式不正确",
}


class RouteLocked(Refused):
    """Someone already came in through this department: its route can no longer change."""

    def __init__(self):
        super().__init__(
            "route_locked", "已有用户通过该单位进入，不能再修改征集方式；请新建推荐单位"
        )


def problem(field: str, code: str, **details) -> dict:
    return base_problem(field, code, MESSAGES, **details)


def recommendation_routes(campaign: Campaign) -> dict[str, str]:
    """Route code → label for the routes departments can belong to (all but online)."""
    return {o.code: o.label for o in options(campaign, "route") if o.code != ONLINE_ROUTE}


def check_fields(campaign: Campaign, data: dict, partial: bool = False) -> tuple[dict, list]:
    """Clean values of the department fields present in `data`, and every problem with them."""
    values, problems = {}, []
    for name in FIELDS:
        if partial and name not in data:
            continue
        value = data.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            problems.append(problem(name, "invalid_type"))
            continue
        values[name] = clean_name(value)
        if name in ("name", "route") and not values[name]:
            problems.append(problem(name, "required"))
        elif len(values[name]) > MAX_LENGTH.get(name, 64):
            problems.append(problem(name, "too_long", max=MAX_LENGTH.get(name, 64)))
    problems += _check_choices(campaign, values)
    return values, problems


def _check_choices(campaign: Campaign, values: dict) -> list[dict]:
    problems = []
    route = values.get("route")
    if route and route not in recommendation_routes(campaign):
        problems.append(problem("route", "invalid_route", value=route))
    region = values.get("region")
    if region and region not in (campaign.regions or []):
        problems.append(problem("region", "invalid_choice", value=region))
    phone = values.get("contact_phone")
    if phone:
        values["contact_phone"] = normalize_phone(phone)
        if not (MOBILE.match(values["contact_phone"]) or LANDLINE.match(values["contact_phone"])):
            problems.append(problem("contact_phone", "invalid_phone"))
    return problems


def check_parent(campaign: Campaign, parent_id, department: Department | None) -> list[dict]:
    """The parent must be another department of the campaign, and not one of its descendants."""
    if parent_id is None:
        return []
    if not is_row_id(parent_id):
        return [problem("parent_id", "invalid_type")]
    parent = Department.get_or_none(
        (Department.id == parent_id) & (Department.campaign == campaign)
    )
    if parent is None:
        return [problem("parent_id", "unknown_parent", value=parent_id)]
    if department is not None and department.id in ancestors(parent):
        return [problem("parent_id", "parent_cycle", value=parent_id)]
    return []


def ancestors(department: Department) -> list[int]:
    """Ids of the department and every department above it (stops on a cycle)."""
    seen = []
    current = department
    while current is not None and current.id not in seen:
        seen.append(current.id)
        current = current.parent
    return seen


def name_taken(campaign: Campaign, name: str, except_id: int | None = None) -> bool:
    query = Department.select().where((Department.campaign == campaign) & (Department.name == name))
    if except_id is not None:
        query = query.where(Department.id != except_id)
    return query.exists()


def new_invite_code() -> str:
    """A random invite code: 12 characters (~60 bits), unambiguous when read aloud."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(INVITE_LENGTH))


def create_department(
    campaign: Campaign, values: dict, actor: str, parent_id: int | None = None
) -> tuple[Department, Channel]:
    """A new department with its invite code and first channel (labelled with its name)."""
    with db.atomic():
        department = Department.create(
            campaign=campaign, parent=parent_id, invite_code=new_invite_code(), **values
        )
        channel = _new_channel(campaign, department, department.route, department.name)
        record(actor, "department.create", department, None, _state(department), campaign.id)
    return department, channel


def update_department(department: Department, values: dict, actor: str) -> Department:
    """Change the given fields (`parent_id`, `active` included); refuse a locked route change."""
    if not values:
        return department  # an empty PATCH changes nothing (and writes no audit row)
    before = _state(department)
    with db.atomic():
        if "route" in values and values["route"] != department.route:
            if route_in_use(department):
                raise RouteLocked()
            Channel.update(route=values["route"]).where(Channel.department == department).execute()
        changes = {("parent" if k == "parent_id" else k): v for k, v in values.items()}
        Department.update(**changes).where(Department.id == department.id).execute()
        department = Department.get_by_id(department.id)
        record(actor, "department.update", department, before, _state(department))
    return department


def route_in_use(department: Department) -> bool:
    """Whether anyone was attributed to, or counted through, the department already."""
    attributed = Attribution.select().where(Attribution.department == department).exists()
    channels = Channel.select(Channel.id).where(Channel.department == department)
    return attributed or Touch.select().where(Touch.channel.in_(channels)).exists()


def rotate_invite(
    department: Department,
    actor: str,
    revoke_members: bool = False,
    expires_at=None,
    max_uses: int | None = None,
) -> Department:
    """A new invite code (the old one stops working), with an optional expiry and use
    limit; bound users stay bound unless `revoke_members` removes them all (a leaked code)."""
    with db.atomic():
        code = new_invite_code()
        Department.update(
            invite_code=code, invite_expires_at=expires_at, invite_max_uses=max_uses, invite_uses=0
        ).where(Department.id == department.id).execute()
        revoked = []
        if revoke_members:
            revoked = [m.user_id for m in DepartmentMember.select().where(
                DepartmentMember.department == department
            )]  # fmt: skip
            DepartmentMember.delete().where(DepartmentMember.department == department).execute()
        after = {
            "expires_at": str(expires_at) if expires_at else None,
            "max_uses": max_uses,
            "revoked_members": revoked,
        }
        record(actor, "department.invite_rotated", department, None, after)
    return Department.get_by_id(department.id)


def members(department: Department) -> list[DepartmentMember]:
    """Who may act for the department, oldest binding first."""
    return list(
        DepartmentMember.select(DepartmentMember, WechatUser)
        .join(WechatUser)
        .where(DepartmentMember.department == department)
        .order_by(DepartmentMember.bound_at, DepartmentMember.id)
    )


def remove_member(department: Department, user_id: int, actor: str) -> bool:
    """Take one user's department access away (audited); False if they were no member."""
    with db.atomic():
        removed = (
            DepartmentMember.delete()
            .where((DepartmentMember.department == department) & (DepartmentMember.user == user_id))
            .execute()
        )
        if removed:
            record(actor, "department.member_removed", department, {"user": user_id}, None)
    return bool(removed)


def create_channel(
    campaign: Campaign, department: Department | None, label: str, actor: str
) -> Channel:
    """A new channel of a department, or of the open online route when `department` is None."""
    route = department.route if department else ONLINE_ROUTE
    with db.atomic():
        channel = _new_channel(campaign, department, route, label)
        record(actor, "channel.create", channel, None, _channel_state(channel), campaign.id)
    return channel


def update_channel(channel: Channel, values: dict, actor: str) -> Channel:
    """Rename (`label`) or switch on/off (`active`) a channel."""
    if not values:
        return channel  # an empty PATCH changes nothing (and writes no audit row)
    before = _channel_state(channel)
    with db.atomic():
        Channel.update(**values).where(Channel.id == channel.id).execute()
        channel = Channel.get_by_id(channel.id)
        record(actor, "channel.update", channel, before, _channel_state(channel))
    return channel


def _new_channel(campaign, department, route: str, label: str) -> Channel:
    for _ in range(5):  # a collision of 50-bit codes is rare, never impossible
        try:
            with db.atomic():
                return Channel.create(
                    campaign=campaign, department=department, route=route, code=new_code(),
                    label=label[: MAX_LENGTH["label"]],
                )  # fmt: skip
        except IntegrityError:
            continue
    raise RuntimeError("could not find a free channel code")


def live_codes() -> list[str]:
    """Codes `/q/<code>` answers: active channels of the current campaign whose department
    (if any) is active."""
    return [row.code for row in _live_channels().select(Channel.code)]


def is_live(code: str) -> bool:
    return _live_channels().where(Channel.code == code).exists()


def _live_channels():
    return (
        Channel.select()
        .join(Campaign)
        .switch(Channel)
        .join(Department, JOIN.LEFT_OUTER)
        .where(
            Campaign.is_current
            & Channel.active
            & (Channel.department.is_null() | (Department.active == True))  # noqa: E712
        )
    )


def _state(department: Department) -> dict:
    return {
        **{name: getattr(department, name) for name in FIELDS},
        "parent_id": department.parent_id,
        "active": department.active,
    }


def _channel_state(channel: Channel) -> dict:
    return {
        "code": channel.code,
        "label": channel.label,
        "route": channel.route,
        "department_id": channel.department_id,
        "active": channel.active,
    }
