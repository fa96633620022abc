"""Ownership checks shared by the unit-facing endpoints.

Someone else's object answers 404, exactly like a missing one, so ids cannot be probed.
"""

from api.security import current_user, request_campaign
from campaign.problems import NotFound
from campaign.users import same_person
from models import Campaign, Entry, Prepared, Unit


def open_campaign() -> Campaign:
    """The current campaign, or 404 `no_campaign`."""
    campaign = request_campaign()
    if campaign is None:
        raise NotFound("no_campaign", "当前没有进行中的征集活动")
    return campaign


_UNIT_OF_OWNER = Prepared(
    lambda campaign_id, owner_id: (
        Unit.select().where((Unit.campaign == campaign_id) & (Unit.owner == owner_id)).limit(1)
    ),
    2_000_000_002,
    2_000_000_003,
)


def own_unit(campaign: Campaign) -> Unit | None:
    """The caller's unit in `campaign` (registered from either WeChat app; most people use
    one app, whose lookup runs on every unit and entry save)."""
    people = same_person(current_user())
    if len(people) == 1:
        return _UNIT_OF_OWNER.first(campaign.id, people[0])
    return (
        Unit.select()
        .where((Unit.campaign == campaign) & Unit.owner.in_(people))
        .order_by(Unit.id)
        .first()
    )


def _entry_with_campaign(condition):
    return Entry.select(Entry, Campaign).join(Campaign).where(condition)


_ENTRY_OF_OWNER = Prepared(
    lambda entry_id, owner_id: _entry_with_campaign(
        (Entry.id == entry_id) & (Entry.owner == owner_id)
    ).limit(1),
    2_000_000_004,
    2_000_000_005,
)


def owned_entry(entry_id: int) -> Entry:
    """The caller's entry, or 404 `not_found` for anything else. Its campaign comes in the
    same query: every rule about an entry reads its campaign's window or choices. (Prepared
    for the usual caller of one app: every entry save and submit runs it.)"""
    people = same_person(current_user())
    if len(people) == 1:
        entry = _ENTRY_OF_OWNER.first(entry_id, people[0])
    else:
        entry = _entry_with_campaign((Entry.id == entry_id) & Entry.owner.in_(people)).get_or_none()
    if entry is None:
        raise NotFound()
    return entry


def campaign_row(model, row_id: int):
    """The row of the current campaign with this id, or 404 (the one `get_or_404`)."""
    row = model.get_or_none((model.id == row_id) & (model.campaign == open_campaign()))
    if row is None:
        raise NotFound()
    return row
