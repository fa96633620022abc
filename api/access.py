"""Ownership checks shared by the unit-facing endpoints.

Someone else's object answers 404, exactly like a missing one, so ids cannot be probed.
"""

from api.errors import ApiError
from api.security import current_user
from campaign.definition import current_campaign
from campaign.users import same_person
from models import Campaign, Entry, Unit


def open_campaign() -> Campaign:
    """The current campaign, or 404 `no_campaign`."""
    campaign = current_campaign()
    if campaign is None:
        raise ApiError(404, "no_campaign", "当前没有进行中的征集活动")
    return campaign


def own_unit(campaign: Campaign) -> Unit | None:
    """The caller's unit in `campaign` (registered from either WeChat app)."""
    return (
        Unit.select()
        .where((Unit.campaign == campaign) & Unit.owner.in_(same_person(current_user())))
        .order_by(Unit.id)
        .first()
    )


def owned_entry(entry_id: int) -> Entry:
    """The caller's entry, or 404 `not_found` for anything else."""
    entry = Entry.get_or_none((Entry.id == entry_id) & Entry.owner.in_(same_person(current_user())))
    if entry is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return entry
