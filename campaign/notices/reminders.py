"""Automatic reminders: ordinary notices the service composes itself when they are due.

On by default, configured per campaign in `Campaign.settings["reminders"]`:
- `deadline`: T-30, T-7 and T-1 days at 09:00 (campaign time) to people with no unit, no
  entry or only a draft;
- `endorsement`: every few days, until review starts, to department users with entries
  waiting for their 推荐;
- `review`: every few days, inside the review window, to experts with unfinished scores
  (skipped while there are no experts);
- `mailin`: weekly after the deadline, until the publication window ends, to winners whose
  stamped materials have not arrived (skipped while there are no winners);
- `exchange_invite`, `exchange_eve`, `exchange_seated`: the offline exchange's invitation to
  winners, its day-before reminder, and the news that a waiting attendee got a seat
  (`campaign.redeem.invitations`; templates of purpose `exchange`).
Each uses the campaign's template of the same purpose (an official-account one of that
purpose as fallback); its values come from the template's field mapping (fixed values and
sources such as the deadline) plus the reminder's own `values`. `Notice.auto_key` is unique
per campaign, so creating a due reminder twice creates it once.
"""

import copy
import datetime
import logging
from zoneinfo import ZoneInfo

from peewee import IntegrityError

from campaign.audit import record
from campaign.notices import operations as notices
from campaign.notices.audiences import UNIT_STATUSES, check_audience, recipients
from campaign.notices.problems import notice_problem
from campaign.problems import Invalid
from campaign.redeem import invitations
from models import Campaign, MessageTemplate, Notice, db

log = logging.getLogger(__name__)

ACTOR = "system:reminders"
DEFAULTS = {
    "deadline": {
        "enabled": True,
        "days_before": [30, 7, 1],
        "at": "09:00",
        "status": ["no_unit", "no_entry", "draft_only"],
        "values": {},
    },
    "endorsement": {"enabled": True, "every_days": 3, "at": "09:00", "values": {}},
    "review": {"enabled": True, "every_days": 2, "at": "09:00", "values": {}},
    "mailin": {"enabled": True, "every_days": 7, "at": "09:00", "values": {}},
    **invitations.DEFAULTS,  # exchange_* (campaign.redeem.invitations)
}
AUDIENCES = {
    "endorsement": {"group": "department_users", "status": ["endorsement_pending"]},
    "review": {"group": "experts", "status": ["review_pending"]},
    "mailin": {"group": "units", "status": ["mailin_pending"]},
}
TITLES = {
    "deadline": "征集截止提醒（还剩{days}天）",
    "endorsement": "案例待推荐提醒（{date}）",
    "review": "专家点评提醒（{date}）",
    "mailin": "获奖材料寄送提醒（{date}）",
}


def reminder_settings(campaign: Campaign) -> dict:
    """The defaults with the campaign's own choices on top."""
    chosen = (campaign.settings or {}).get("reminders", {})
    merged = copy.deepcopy(DEFAULTS)
    for kind, values in chosen.items():
        if kind in merged and isinstance(values, dict):
            merged[kind].update(values)
    return merged


def configure(campaign: Campaign, data: dict, actor: str) -> dict:
    """Apply any subset of the settings' shape; raise Invalid listing every problem."""
    merged = reminder_settings(campaign)
    problems = []
    for kind, values in data.items():
        if kind not in DEFAULTS or not isinstance(values, dict):
            problems.append(notice_problem(str(kind), "unknown_field"))
            continue
        for name, value in values.items():
            found = _check_setting(f"{kind}.{name}", name, value, DEFAULTS[kind])
            problems += found
            if not found:
                merged[kind][name] = value
    if problems:
        raise Invalid(problems)
    settings = {**(campaign.settings or {}), "reminders": merged}
    with db.atomic():
        Campaign.update(settings=settings).where(Campaign.id == campaign.id).execute()
        record(actor, "reminders.configure", campaign, None, data, campaign=campaign)
    return merged


def _check_setting(where: str, name: str, value, defaults: dict) -> list[dict]:
    if name not in defaults:
        return [notice_problem(where, "unknown_field")]
    valid = {
        "enabled": isinstance(value, bool),
        "at": isinstance(value, str) and notices.CLOCK.fullmatch(value) is not None,
        "every_days": _int_between(value, 1, 60),
        "days_before": isinstance(value, list)
        and 0 < len(value) <= 10
        and all(_int_between(day, 0, 366) for day in value),
        "status": isinstance(value, list)
        and bool(value)
        and all(isinstance(item, str) and item in UNIT_STATUSES for item in value),
        "values": isinstance(value, dict) and all(isinstance(v, str) for v in value.values()),
    }[name]
    return [] if valid else [notice_problem(where, "invalid_format")]


def _int_between(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def due_reminders(campaign: Campaign, now: datetime.datetime) -> list[dict]:
    """The reminders whose time has come now: `{kind, auto_key, title, audience, values}`."""
    settings = reminder_settings(campaign)
    zone = ZoneInfo(campaign.timezone)
    local_now = now.replace(tzinfo=datetime.UTC).astimezone(zone)
    due = []
    deadline = settings["deadline"]
    if deadline["enabled"] and campaign.opens_at <= now < campaign.closes_at:
        days = _latest_countdown(campaign, deadline, local_now, zone)
        if days is not None:
            due.append(
                {
                    "kind": "deadline",
                    "auto_key": f"deadline:T-{days}",
                    "title": TITLES["deadline"].format(days=days),
                    "audience": {"group": "units", "status": deadline["status"]},
                    "values": deadline["values"],
                }
            )
    for kind in AUDIENCES:
        if settings[kind]["enabled"] and _in_season(campaign, kind, now):
            if _cadence_day(campaign, settings[kind], local_now, zone):
                day = f"{local_now:%Y-%m-%d}"
                due.append(
                    {
                        "kind": kind,
                        "auto_key": f"{kind}:{day}",
                        "title": TITLES[kind].format(date=day),
                        "audience": AUDIENCES[kind],
                        "values": settings[kind]["values"],
                    }
                )
    return due + invitations.due(campaign, settings, now, local_now)


def _at(day: datetime.date, clock: str, zone: ZoneInfo) -> datetime.datetime:
    hours, minutes = (int(part) for part in clock.split(":"))
    return datetime.datetime.combine(day, datetime.time(hours, minutes), zone)


def _latest_countdown(campaign, deadline: dict, local_now, zone) -> int | None:
    """The countdown reminder due last before now (earlier ones missed are not sent late)."""
    closes = campaign.closes_at.replace(tzinfo=datetime.UTC).astimezone(zone).date()
    passed = [
        days
        for days in deadline["days_before"]
        if _at(closes - datetime.timedelta(days=days), deadline["at"], zone) <= local_now
    ]
    return min(passed) if passed else None


def _in_season(campaign: Campaign, kind: str, now: datetime.datetime) -> bool:
    """Endorsement from the opening until review starts (or a month after the deadline);
    review inside its window (a hook until review exists); mail-in from the deadline until the
    publication window ends (or half a year after the deadline)."""
    after_deadline = campaign.closes_at + datetime.timedelta(days=30)
    seasons = {
        "endorsement": (campaign.opens_at, campaign.review_opens_at or after_deadline),
        "review": (campaign.review_opens_at, campaign.review_closes_at),
        "mailin": (
            campaign.closes_at,
            campaign.publish_until or campaign.closes_at + datetime.timedelta(days=180),
        ),
    }
    starts, ends = seasons[kind]
    return starts is not None and ends is not None and starts <= now <= ends


def _cadence_day(campaign: Campaign, settings: dict, local_now, zone) -> bool:
    opened = campaign.opens_at.replace(tzinfo=datetime.UTC).astimezone(zone).date()
    on_cadence = (local_now.date() - opened).days % settings["every_days"] == 0
    return on_cadence and _at(local_now.date(), settings["at"], zone) <= local_now


def templates_for(campaign: Campaign, kind: str) -> tuple | None:
    """(template id, fallback id or None) of the campaign's templates for this purpose."""
    rows = list(
        MessageTemplate.select()
        .where((MessageTemplate.campaign == campaign) & (MessageTemplate.purpose == kind))
        .order_by(MessageTemplate.id)
    )
    subscribe = [t for t in rows if t.channel == "wxa_subscribe"]
    official = [t for t in rows if t.channel == "mp_template"]
    if subscribe:
        return subscribe[0].id, official[0].id if official else None
    return (official[0].id, None) if official else None


def create_due(campaign: Campaign, now: datetime.datetime) -> list[int]:
    """Compose and schedule each due reminder not created yet; return the new notices' ids.
    A reminder without a template, without anyone to reach, or whose values break WeChat's
    rules is skipped (and logged), never sent half-filled."""
    created = []
    for reminder in due_reminders(campaign, now):
        key = reminder["auto_key"]
        exists = Notice.select().where((Notice.campaign == campaign) & (Notice.auto_key == key))
        templates = templates_for(campaign, reminder.get("purpose", reminder["kind"]))
        if exists.exists() or templates is None:
            continue
        if not recipients(campaign, check_audience(campaign, reminder["audience"])[0]):
            continue
        data = {
            "title": reminder["title"],
            "template": templates[0],
            "fallback_template": templates[1],
            "values": reminder["values"],
            "audience": reminder["audience"],
        }
        try:
            notice = notices.create_notice(campaign, data, ACTOR, auto_key=key)
        except Invalid as invalid:
            log.warning("reminder %s skipped: %s", key, invalid.problems)
            continue
        except IntegrityError:
            continue  # created concurrently
        created.append(notices.schedule(notice, now, ACTOR).id)
    return created
