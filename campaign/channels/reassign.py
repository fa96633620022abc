"""An organizer moves a person to another department or route (DESIGN §5.1: "organizers may
reassign, logged").

The first touch fixes attribution, but people scan the wrong poster, or a county committee
recommends a unit first found through the open route. Reassigning changes the person's
attribution (in both WeChat apps, when the unionid links them) and the route and department
of their entries the department has not judged yet — drafts, submitted, returned or
withdrawn; an endorsed or reviewed entry keeps the department that vouched for it. Entries
lose their channel (it belonged to the old department). One audit row records it all.
"""

from campaign.attribution import ONLINE_ROUTE
from campaign.audit import record
from campaign.problems import Refused
from campaign.users import same_person
from models import Attribution, Campaign, Department, Entry, WechatUser, db, utcnow

MOVABLE = ("draft", "submitted", "returned", "withdrawn")


class ReassignRefused(Refused):
    """The target does not make sense (`code` says why)."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message, status=422)


def target(campaign: Campaign, department_id, route) -> tuple[str, Department | None]:
    """(route, department) to move to: a department of the campaign, or the online route."""
    if department_id is None:
        if route not in (None, ONLINE_ROUTE):
            raise ReassignRefused("department_required", "推荐渠道需要指定推荐单位")
        return ONLINE_ROUTE, None
    department = Department.get_or_none(
        (Department.id == department_id) & (Department.campaign == campaign) & Department.active
    )
    if department is None:
        raise ReassignRefused("unknown_department", "推荐单位不存在或已停用")
    if route not in (None, department.route):
        raise ReassignRefused("route_mismatch", "征集方式与推荐单位不一致")
    return department.route, department


def reassign(
    campaign: Campaign, user: WechatUser, route: str, department, actor: str, reason: str
) -> dict:
    """Move the person and their movable entries; return what changed."""
    people = same_person(user)
    department_id = department.id if department else None
    with db.atomic():
        existing = _attributions(campaign, people)
        before = [_state(a) for a in existing]
        if user.id not in {a.user_id for a in existing}:
            Attribution.create(campaign=campaign, user=user, route=route, department=department_id)
        Attribution.update(
            route=route, department=department_id, channel=None, reassigned_by=actor
        ).where((Attribution.campaign == campaign) & Attribution.user.in_(people)).execute()
        entries = [
            e.id
            for e in Entry.select(Entry.id).where(
                (Entry.campaign == campaign) & Entry.owner.in_(people) & Entry.status.in_(MOVABLE)
            )
        ]
        if entries:
            Entry.update(
                route=route, department=department_id, channel=None, updated_at=utcnow()
            ).where(Entry.id.in_(entries) & Entry.status.in_(MOVABLE)).execute()
        after = {"route": route, "department_id": department_id, "entries": entries,
                 "reason": reason}  # fmt: skip
        attribution = _attributions(campaign, [user.id])[0]
        record(actor, "attribution.reassign", attribution, {"attributions": before}, after,
               campaign.id)  # fmt: skip
    return {"user_id": user.id, "route": route, "department_id": department_id,
            "entries_moved": entries}  # fmt: skip


def _attributions(campaign: Campaign, people: list[int]) -> list[Attribution]:
    return list(
        Attribution.select()
        .where((Attribution.campaign == campaign) & Attribution.user.in_(people))
        .order_by(Attribution.id)
    )


def _state(attribution: Attribution) -> dict:
    return {
        "user_id": attribution.user_id,
        "route": attribution.route,
        "department_id": attribution.department_id,
        "channel_id": attribution.channel_id,
    }
