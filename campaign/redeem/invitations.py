"""The exchange's automatic reminders: an invitation to every winning unit once a session is
open for registration, a reminder the day before to the units with seated attendees, and a
message to a unit when one of its waiting attendees got a seat.

They are ordinary automatic reminders (`campaign.notices.reminders`): composed here, created once
per session or promoted attendee (`auto_key`), sent through the notice outbox, and only to
people who granted consent. All use the campaign's templates of purpose `exchange`.
"""

import datetime

from campaign.entries import status as entry_status
from campaign.redeem.exchange import REGISTERED
from models import Attendee, AuditLog, Campaign, Entry, ExchangeSession, Unit

PURPOSE = "exchange"
DEFAULTS = {
    "exchange_invite": {"enabled": True, "at": "09:00", "values": {}},
    "exchange_eve": {"enabled": True, "at": "15:00", "values": {}},
    "exchange_seated": {"enabled": True, "values": {}},
}
TITLES = {
    "exchange_invite": "线下交流报名邀请：{title}",
    "exchange_eve": "线下交流明日举行：{title}",
    "exchange_seated": "候补已转为正式报名：{title}",
}


def due(campaign: Campaign, settings: dict, now: datetime.datetime, local_now) -> list[dict]:
    """Reminders due now for sessions still to come, in the shape `notices.reminders` uses."""
    found = []
    upcoming = ExchangeSession.select().where(
        (ExchangeSession.campaign == campaign) & (ExchangeSession.starts_at > now)
    )
    for session in upcoming.order_by(ExchangeSession.id):
        starts = session.starts_at.replace(tzinfo=datetime.UTC).astimezone(local_now.tzinfo)
        invite, eve = settings["exchange_invite"], settings["exchange_eve"]
        if invite["enabled"] and session.registration_open and _past(invite["at"], local_now):
            found.append(_reminder("exchange_invite", session, invite, winners(campaign)))
        eve_day = starts.date() - datetime.timedelta(days=1)
        if eve["enabled"] and local_now.date() >= eve_day and _past(eve["at"], local_now):
            found.append(_reminder("exchange_eve", session, eve, seated_contacts(session)))
        if settings["exchange_seated"]["enabled"]:
            found += _seated_from_waiting(session, settings["exchange_seated"])
    return [reminder for reminder in found if reminder["audience"]["users"]]


def _past(clock: str, local_now) -> bool:
    hours, minutes = (int(part) for part in clock.split(":"))
    return local_now.time() >= datetime.time(hours, minutes)


def _reminder(kind: str, session: ExchangeSession, settings: dict, users: list[int]) -> dict:
    return {
        "kind": kind,
        "purpose": PURPOSE,
        "auto_key": f"{kind}:{session.id}",
        "title": TITLES[kind].format(title=session.title)[:200],
        "audience": {"group": "users", "users": users},
        "values": settings["values"],
    }


def _seated_from_waiting(session: ExchangeSession, settings: dict) -> list[dict]:
    """One message per attendee promoted from the waiting list and still seated."""
    promoted = AuditLog.select(AuditLog.object_id).where(
        (AuditLog.action == "exchange.promote") & (AuditLog.object_type == "attendee")
    )
    found = []
    seated = (
        Attendee.select(Attendee.id, Unit.owner)
        .join(Unit)
        .where(
            (Attendee.session == session)
            & (Attendee.status == REGISTERED)
            & Attendee.id.cast("TEXT").in_(promoted)
        )
        .tuples()
    )
    for attendee_id, owner in seated:
        reminder = _reminder("exchange_seated", session, settings, [owner])
        found.append({**reminder, "auto_key": f"exchange_seated:{attendee_id}"})
    return found


def winners(campaign: Campaign) -> list[int]:
    """WeChat users owning a unit with an awarded entry."""
    awarded = Entry.select(Entry.unit).where(
        (Entry.campaign == campaign) & (Entry.status == entry_status.AWARDED)
    )
    owners = Unit.select(Unit.owner).where(Unit.id.in_(awarded) & Unit.merged_into.is_null())
    return sorted({owner for (owner,) in owners.tuples()})


def seated_contacts(session: ExchangeSession) -> list[int]:
    """WeChat users owning a unit with a seated attendee in the session."""
    seated = Attendee.select(Attendee.unit).where(
        (Attendee.session == session) & (Attendee.status == REGISTERED)
    )
    owners = Unit.select(Unit.owner).where(Unit.id.in_(seated))
    return sorted({owner for (owner,) in owners.tuples()})
