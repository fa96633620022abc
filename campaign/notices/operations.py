"""Notices an organizer composes: template, values, audience and when; and the notice's
own life, which only moves by conditional updates:

    draft ─▶ scheduled ─▶ preparing ─▶ sending ⇄ paused ─▶ done
      └──────────┴─▶ cancelled          (done ─▶ sending when unknown rows are re-sent)

`preparing` is the fan-out (one `Delivery` row per person); `paused` is the organizer's
choice or the circuit breaker's (`state_reason`: organizer, daily_quota, token_rejected…).
Values are rendered and checked against WeChat's rules when the notice is composed, so what
the organizer saw is exactly what is sent; a notice that breaks a rule is never sent.
"""

import datetime
import re
from zoneinfo import ZoneInfo

from peewee import fn

from campaign.audit import record
from campaign.notices import outbox
from campaign.notices.audiences import check_audience
from campaign.notices.problems import notice_problem
from campaign.notices.template_values import render
from campaign.notices.templates import campaign_template
from campaign.problems import Invalid, Refused
from models import Campaign, Delivery, Notice, db, utcnow

DRAFT = "draft"
SCHEDULED = "scheduled"
PREPARING = "preparing"
SENDING = "sending"
PAUSED = "paused"
DONE = "done"
CANCELLED = "cancelled"
STATES = (DRAFT, SCHEDULED, PREPARING, SENDING, PAUSED, DONE, CANCELLED)

CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
MAX_DAYS_BEFORE = 366


STATE_MESSAGES = {
    "notice_not_draft": "只有草稿状态的通知可以修改或发送",
    "notice_started": "通知已开始发送，不能取消（可以暂停）",
    "notice_not_sending": "通知当前不在发送中",
    "notice_not_paused": "通知当前未暂停",
    "notice_not_started": "通知尚未开始发送",
}


class NoticeStateError(Refused):
    """The notice is not in a state that allows the action (`code` says which action)."""

    def __init__(self, code: str, state: str):
        super().__init__(code, STATE_MESSAGES[code], fields=[{"state": state}])
        self.state = state


def check_notice(campaign: Campaign, data: dict, current: Notice | None = None) -> dict:
    """Clean notice fields (all of them, `current` filling what `data` leaves out), with
    values rendered for the template and the fallback; raise Invalid otherwise."""
    merged = _current_fields(current) | data
    problems = []
    title = merged.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append(notice_problem("title", "required"))
    elif len(title) > 200:
        problems.append(notice_problem("title", "too_long", count=len(title), max=200))
    templates = _templates(campaign, merged, problems)
    audience, found = check_audience(campaign, merged.get("audience"))
    problems += found
    values = merged.get("values", {})
    if not isinstance(values, dict):
        problems.append(notice_problem("values", "invalid_type"))
        values = {}
    rendered = _render_values(campaign, templates, values, problems)
    if problems:
        raise Invalid(problems)
    return {
        "title": title.strip(),
        "template": templates[0],
        "fallback_template": templates[1] if len(templates) > 1 else None,
        "values": rendered,
        "audience": audience,
    }


def _current_fields(notice: Notice | None) -> dict:
    if notice is None:
        return {}
    return {
        "title": notice.title,
        "template": notice.template_id,
        "fallback_template": notice.fallback_template_id,
        "values": notice.values,
        "audience": notice.audience,
    }


def _templates(campaign: Campaign, data: dict, problems: list) -> list:
    """[template, fallback?] of the campaign; a fallback must be an official-account template
    backing up a subscribe template."""
    template = campaign_template(campaign, data.get("template"))
    if template is None:
        problems.append(notice_problem("template", "not_found"))
        return []
    if data.get("fallback_template") is None:
        return [template]
    fallback = campaign_template(campaign, data["fallback_template"])
    if fallback is None:
        problems.append(notice_problem("fallback_template", "not_found"))
    elif fallback.channel != "mp_template" or template.channel != "wxa_subscribe":
        problems.append(notice_problem("fallback_template", "wrong_channel"))
    else:
        return [template, fallback]
    return [template]


def _render_values(campaign: Campaign, templates: list, values: dict, problems: list) -> dict:
    """One flat dict of keyword values serving both templates (a shared keyword must pass
    both templates' rules)."""
    known = {key for template in templates for key in template.fields}
    problems += [
        notice_problem(f"values.{key}", "unknown_field") for key in values if key not in known
    ]
    rendered, now = {}, utcnow()
    for template in templates:
        data, found = render(template.fields, values, campaign, now)
        problems += [item for item in found if item not in problems]
        rendered.update(data)
    return rendered


def create_notice(campaign: Campaign, data: dict, actor: str, auto_key=None) -> Notice:
    """A draft notice; raise Invalid listing every problem."""
    clean = check_notice(campaign, data)
    with db.atomic():
        notice = Notice.create(campaign=campaign, created_by=actor, auto_key=auto_key, **clean)
        record(actor, "notice.create", notice, None, _audit_view(clean), campaign=campaign)
    return notice


def update_draft(notice: Notice, data: dict, actor: str) -> Notice:
    """Change a draft; anything else answers NoticeStateError("notice_not_draft")."""
    clean = check_notice(notice.campaign, data, current=notice)
    with db.atomic():
        if not _move(notice.id, (DRAFT,), DRAFT, **clean):
            raise NoticeStateError("notice_not_draft", _state(notice.id))
        record(actor, "notice.update", notice, None, _audit_view(clean), campaign=notice.campaign)
    return Notice.get_by_id(notice.id)


def _audit_view(clean: dict) -> dict:
    view = {**clean, "template": clean["template"].id}
    view["fallback_template"] = clean["fallback_template"] and clean["fallback_template"].id
    return view


def send_time(campaign: Campaign, when: dict, now: datetime.datetime) -> datetime.datetime:
    """Naive UTC moment to send: now (`{}`), `{"at": ISO 8601}` (naive = campaign time), or
    `{"before_deadline": {"days": 7, "time": "09:00"}}`, in campaign time."""
    zone = ZoneInfo(campaign.timezone)
    if not isinstance(when, dict) or len(set(when) & {"at", "before_deadline"}) > 1:
        raise Invalid([notice_problem("at", "conflicting")])
    if "at" in when:
        moment = _parse_at(when["at"], zone)
    elif "before_deadline" in when:
        moment = _before_deadline(campaign, when["before_deadline"], zone)
    else:
        return now
    if moment < now:
        raise Invalid([notice_problem(next(iter(when)), "in_past")])
    return moment


def _parse_at(value, zone: ZoneInfo) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise Invalid([notice_problem("at", "invalid_format")]) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(datetime.UTC).replace(tzinfo=None)


def _before_deadline(campaign: Campaign, spec, zone: ZoneInfo) -> datetime.datetime:
    days = spec.get("days") if isinstance(spec, dict) else None
    clock = CLOCK.fullmatch(str(spec.get("time", "09:00"))) if isinstance(spec, dict) else None
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= MAX_DAYS_BEFORE:
        raise Invalid([notice_problem("before_deadline.days", "invalid_format")])
    if clock is None:
        raise Invalid([notice_problem("before_deadline.time", "invalid_format")])
    deadline = campaign.closes_at.replace(tzinfo=datetime.UTC).astimezone(zone)
    day = deadline.date() - datetime.timedelta(days=days)
    local = datetime.datetime.combine(
        day, datetime.time(int(clock.group(1)), int(clock.group(2))), zone
    )
    return local.astimezone(datetime.UTC).replace(tzinfo=None)


# --- the notice's life --------------------------------------------------------------------


def _move(notice_id: int, sources: tuple, target: str, **changes) -> bool:
    """Move the notice to `target` if it is in one of `sources`; True if it moved."""
    return bool(
        Notice.update(state=target, **changes)
        .where((Notice.id == notice_id) & Notice.state.in_(sources))
        .execute()
    )


def _state(notice_id: int) -> str:
    return Notice.get_by_id(notice_id).state


def _organizer_move(notice, sources, target, code, actor, action, **changes) -> Notice:
    with db.atomic():
        if not _move(notice.id, sources, target, **changes):
            raise NoticeStateError(code, _state(notice.id))
        record(
            actor,
            action,
            notice,
            {"state": notice.state},
            {"state": target, **{k: str(v) for k, v in changes.items()}},
            campaign=notice.campaign_id,
        )
    return Notice.get_by_id(notice.id)


def schedule(notice: Notice, send_at: datetime.datetime, actor: str) -> Notice:
    """draft → scheduled for `send_at` (the sweeper or the caller starts it when due)."""
    return _organizer_move(
        notice, (DRAFT,), SCHEDULED, "notice_not_draft", actor, "notice.schedule", send_at=send_at
    )


def cancel(notice: Notice, actor: str) -> Notice:
    """Before it starts only: once deliveries exist, pause instead."""
    return _organizer_move(
        notice, (DRAFT, SCHEDULED), CANCELLED, "notice_started", actor, "notice.cancel"
    )


def pause(notice: Notice, actor: str) -> Notice:
    return _organizer_move(
        notice, (SENDING,), PAUSED, "notice_not_sending", actor, "notice.pause",
        state_reason="organizer",
    )  # fmt: skip


def resume(notice: Notice, actor: str) -> Notice:
    return _organizer_move(
        notice, (PAUSED,), SENDING, "notice_not_paused", actor, "notice.resume", state_reason=""
    )


def resend_unknown(notice: Notice, actor: str) -> int:
    """The organizer's explicit go-ahead to send `unknown` rows again; return how many."""
    with db.atomic():
        if notice.state not in (SENDING, PAUSED, DONE):
            raise NoticeStateError("notice_not_started", notice.state)
        count = outbox.requeue_unknown(notice.id)
        _move(notice.id, (DONE,), SENDING, finished_at=None)
        record(actor, "notice.resend_unknown", notice, None, {"rows": count}, notice.campaign_id)
    return count


def halt(notice_id: int, reason: str) -> bool:
    """The circuit breaker: sending → paused with `reason` (e.g. daily_quota on 45009)."""
    with db.atomic():
        moved = _move(notice_id, (SENDING,), PAUSED, state_reason=reason)
        if moved:
            notice = Notice.get_by_id(notice_id)
            record("system", "notice.halt", notice, None, {"reason": reason}, notice.campaign_id)
    return moved


def begin(notice_id: int) -> bool:
    """scheduled → preparing once its time has come; `send_at` becomes the actual start."""
    now = utcnow()
    return bool(
        Notice.update(state=PREPARING, send_at=now)
        .where((Notice.id == notice_id) & (Notice.state == SCHEDULED) & (Notice.send_at <= now))
        .execute()
    )


def fanned_out(notice_id: int, total: int) -> bool:
    """preparing → sending once every delivery row exists."""
    Notice.update(total=total).where(Notice.id == notice_id).execute()
    return _move(notice_id, (PREPARING,), SENDING)


def finish_if_done(notice_id: int) -> bool:
    """sending → done when no row is pending or being sent (checked in the same statement)."""
    open_rows = Delivery.select().where(
        (Delivery.notice == notice_id) & Delivery.state.in_(outbox.OPEN)
    )
    return bool(
        Notice.update(state=DONE, finished_at=utcnow())
        .where((Notice.id == notice_id) & (Notice.state == SENDING) & ~fn.EXISTS(open_rows))
        .execute()
    )


def reopen_unfinished() -> int:
    """done → sending for notices that have open rows again (a race with a re-send)."""
    unfinished = Delivery.select(Delivery.notice).where(Delivery.state.in_(outbox.OPEN))
    return (
        Notice.update(state=SENDING, finished_at=None)
        .where((Notice.state == DONE) & Notice.id.in_(unfinished))
        .execute()
    )


def due_notices() -> list[int]:
    now = utcnow()
    rows = Notice.select(Notice.id).where((Notice.state == SCHEDULED) & (Notice.send_at <= now))
    return [notice_id for (notice_id,) in rows.tuples()]


def stalled_fanouts(grace: float) -> list[int]:
    """Notices in fan-out for longer than `grace` seconds: their job may be lost."""
    since = utcnow() - datetime.timedelta(seconds=grace)
    rows = Notice.select(Notice.id).where((Notice.state == PREPARING) & (Notice.send_at < since))
    return [notice_id for (notice_id,) in rows.tuples()]


def sending_notices() -> list[int]:
    return [
        notice_id
        for (notice_id,) in Notice.select(Notice.id).where(Notice.state == SENDING).tuples()
    ]
