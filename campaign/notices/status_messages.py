"""What a unit is told about its entry's verdict: why it came back, who sent it back and
when, and a subscribe message when it is returned or endorsed (later: awarded).

The message is an ordinary notice to one person, through the outbox
(campaign.notices.operations), so consent, retries and the daily quota work as for every
notice. It is composed only for a
person who granted the campaign's `status` template, and once per status change
(`Notice.auto_key` is unique per campaign).
"""

import logging

from peewee import IntegrityError

from campaign.clock import iso_local
from campaign.entries import status
from campaign.notices import operations as notices
from campaign.notices.template_values import ENTRY_SOURCES, MAX_LENGTHS, keyword_type
from campaign.problems import Invalid
from campaign.users import same_person
from models import (
    Department,
    DepartmentMember,
    Entry,
    MessageTemplate,
    StatusChange,
    SubscriptionGrant,
    WechatUser,
    utcnow,
)

log = logging.getLogger(__name__)

ACTOR = "system:status"
PURPOSE = "status"
NOTIFIED = (status.RETURNED, status.ENDORSED, status.AWARDED)


def last_change(entry: Entry, target: str) -> StatusChange | None:
    return (
        StatusChange.select()
        .where((StatusChange.entry == entry.id) & (StatusChange.to_status == target))
        .order_by(StatusChange.id.desc())
        .first()
    )


def returned_info(entry: Entry) -> dict | None:
    """`{reason, at, by: {department, name}}` of a returned entry, else None."""
    if entry.status != status.RETURNED:
        return None
    change = last_change(entry, status.RETURNED)
    if change is None:
        return None
    return {
        "reason": change.note,
        "at": iso_local(change.at, entry.campaign.timezone),
        "by": _who(change.actor, entry),
    }


def _who(actor: str, entry: Entry) -> dict:
    """The department (and the person's WeChat nickname, if known) behind `user:<id>`."""
    kind, _, ident = actor.partition(":")
    is_user = kind == "user" and ident.isdigit()
    user = WechatUser.get_or_none(WechatUser.id == int(ident)) if is_user else None
    department = entry.department
    if user is not None:
        bound = (
            Department.select()
            .join(DepartmentMember)
            .where(DepartmentMember.user == user)
            .order_by(Department.id)
        )
        department = next((d for d in bound if d.id == entry.department_id), department)
    return {
        "role": "department" if kind == "user" else "organizer",
        "department": department.name if department else None,
        "name": user.nickname if user is not None else None,
    }


def status_template(entry: Entry) -> MessageTemplate | None:
    return (
        MessageTemplate.select()
        .where(
            (MessageTemplate.campaign == entry.campaign_id)
            & (MessageTemplate.purpose == PURPOSE)
            & (MessageTemplate.channel == "wxa_subscribe")
        )
        .order_by(MessageTemplate.id)
        .first()
    )


def consenting_user(entry: Entry, template: MessageTemplate) -> int | None:
    """The owner's identity (mini-program or official account) holding a grant, if any."""
    grant = (
        SubscriptionGrant.select()
        .where(
            SubscriptionGrant.user.in_(same_person(entry.owner))
            & (SubscriptionGrant.template_id == template.template_id)
            & ((SubscriptionGrant.remaining > 0) | SubscriptionGrant.long_term)
        )
        .order_by(SubscriptionGrant.id)
        .first()
    )
    return grant.user_id if grant else None


def entry_values(entry: Entry, template: MessageTemplate, change: StatusChange) -> dict:
    """The template's entry keywords filled in, each cut to what its WeChat type allows."""
    when = iso_local(change.at, entry.campaign.timezone) or ""
    found = {
        "entry_title": entry.title or "未命名案例",
        "entry_status": status.LABELS[change.to_status],
        "entry_note": change.note or status.LABELS[change.to_status],
        "entry_time": when[:16].replace("T", " "),
    }
    values = {}
    for key, spec in template.fields.items():
        if spec.get("source") in ENTRY_SOURCES:
            limit = MAX_LENGTHS.get(keyword_type(key, spec.get("type")))
            value = found[spec["source"]]
            values[key] = value[:limit] if limit else value
    return values


def notify(entry: Entry) -> int | None:
    """Compose and schedule the message about the entry's latest verdict; its notice id, or
    None when there is nothing to send (no template, no consent, already composed)."""
    if entry.status not in NOTIFIED:
        return None
    change = last_change(entry, entry.status)
    template = status_template(entry)
    user_id = consenting_user(entry, template) if template and change else None
    if user_id is None:
        return None
    data = {
        "title": f"案例{status.LABELS[entry.status]}通知（{entry.id}）",
        "template": template.id,
        "values": entry_values(entry, template, change),
        "audience": {"group": "users", "users": [user_id]},
    }
    try:
        notice = notices.create_notice(
            entry.campaign, data, ACTOR, auto_key=f"entry-status:{change.id}"
        )
    except Invalid as invalid:
        log.warning("status message for entry %s skipped: %s", entry.id, invalid.problems)
        return None
    except IntegrityError:
        return None  # composed already
    return notices.schedule(notice, utcnow(), ACTOR).id
