"""Retention (issue 11; PIPL Art. 19 "the shortest period necessary"; Cybersecurity Law
Art. 21: network logs at least six months).

- **Contact data** of a campaign (units' and departments' contact names and phones, the
  exchange's attendees) is anonymized `contact_days` after the campaign has ended (the
  latest of its collection, review and publication dates). The entries, units' names and
  the audit trail stay: they are the campaign's record, not contact data.
- **WeChat users' phone numbers and nicknames** go once the user has not been seen for
  `contact_days` and every campaign they had a unit in has passed its contact retention.
- **Access records** (touches already counted into the funnel, WeChat pushes already handled)
  are deleted after `log_days` (≥ 180 by default). The audit log is never deleted here.

Idempotent: a second run finds nothing left to do.
"""

import datetime

from campaign.audit import record
from models import Attendee, Campaign, Department, InboundEvent, Touch, Unit, WechatUser, db

ANONYMIZED = "（已删除）"


def campaign_end(campaign: Campaign) -> datetime.datetime:
    moments = [campaign.closes_at, campaign.review_closes_at, campaign.publish_until]
    return max(moment for moment in moments if moment is not None)


def expired_campaigns(now: datetime.datetime, contact_days: int) -> list[Campaign]:
    keep = datetime.timedelta(days=contact_days)
    return [c for c in Campaign.select() if campaign_end(c) + keep <= now]


def anonymize_contacts(now: datetime.datetime, contact_days: int) -> dict:
    report = {"units": 0, "departments": 0, "attendees": 0, "users": 0}
    expired = expired_campaigns(now, contact_days)
    for campaign in expired:
        with db.atomic():
            units = (
                Unit.update(contact_name=ANONYMIZED, contact_phone="")
                .where((Unit.campaign == campaign) & (Unit.contact_name != ANONYMIZED))
                .execute()
            )
            departments = (
                Department.update(contact_name="", contact_phone="")
                .where(
                    (Department.campaign == campaign)
                    & ((Department.contact_name != "") | (Department.contact_phone != ""))
                )
                .execute()
            )
            attendees = (
                Attendee.update(name=ANONYMIZED, phone="")
                .where((Attendee.campaign == campaign) & (Attendee.name != ANONYMIZED))
                .execute()
            )
            if units or departments or attendees:
                counts = {"units": units, "departments": departments, "attendees": attendees}
                record("system:retention", "retention.contacts_anonymized", campaign, None, counts)
        report["units"] += units
        report["departments"] += departments
        report["attendees"] += attendees
    live = Campaign.select(Campaign.id).where(Campaign.id.not_in([c.id for c in expired] or [0]))
    still_needed = Unit.select(Unit.owner).where(Unit.campaign.in_(live))
    report["users"] = (
        WechatUser.update(phone=None, nickname=None)
        .where(
            (WechatUser.last_seen_at < now - datetime.timedelta(days=contact_days))
            & (WechatUser.phone.is_null(False) | WechatUser.nickname.is_null(False))
            & WechatUser.id.not_in(still_needed)
        )
        .execute()
    )
    return report


def delete_old_records(now: datetime.datetime, log_days: int) -> dict:
    cutoff = now - datetime.timedelta(days=log_days)
    return {
        "touches": Touch.delete().where(Touch.rolled & (Touch.at < cutoff)).execute(),
        "inbound_events": InboundEvent.delete()
        .where((InboundEvent.state != "new") & (InboundEvent.received_at < cutoff))
        .execute(),
    }
