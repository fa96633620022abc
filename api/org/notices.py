"""Organizer endpoints for notices (DESIGN §5.3); templates and reminders have their own.

Compose a notice (template, values, audience), preview its audience, send it now, at a time
or relative to the deadline, cancel it before it starts, pause and resume it while it runs,
watch its progress, and re-send the deliveries whose outcome is unknown. Every change is
audited; every refusal is a stable code with a Chinese message.
"""

from flask import Blueprint, jsonify, request

from api.access import open_campaign
from api.errors import ApiError
from api.org.templates import template_payload
from api.payload import json_object
from api.security import console_actor, role_required
from campaign.clock import iso_local
from campaign.notices import audiences, outbox
from campaign.notices import operations as rules
from campaign.notices import preview as notice_preview
from campaign.notices.problems import notice_problem
from campaign.problems import Invalid, NotFound
from campaign.settings_admin import anchor_to_deadline
from models import Notice, utcnow
from tasks import notices as jobs

bp = Blueprint("notices_api", __name__, url_prefix="/api/v1/org")

PAGE_MAX = 200


@bp.get("/notices")
@role_required("organizer")
def list_notices():
    query = Notice.select().where(Notice.campaign == open_campaign())
    state = request.args.get("state")
    if state and state not in rules.STATES:
        raise Invalid([notice_problem("state", "invalid_choice", choices=list(rules.STATES))])
    if state:
        query = query.where(Notice.state == state)
    return jsonify(items=[notice_payload(n) for n in query.order_by(Notice.id.desc())])


@bp.post("/notices")
@role_required("organizer")
def create_notice():
    notice = rules.create_notice(open_campaign(), json_object(), console_actor())
    return jsonify(notice_payload(notice, with_progress=True)), 201


@bp.post("/notices/preview")
@role_required("organizer")
def preview():
    """Who would receive it: `{count, sample, reachable}`; nothing is created."""
    result, problems = notice_preview.preview(open_campaign(), json_object())
    if problems:
        raise Invalid(problems)
    return jsonify(result)


@bp.get("/notices/<int:notice_id>")
@role_required("organizer")
def show_notice(notice_id: int):
    return jsonify(notice_payload(_notice(notice_id), with_progress=True))


@bp.patch("/notices/<int:notice_id>")
@role_required("organizer")
def update_notice(notice_id: int):
    data = json_object()
    notice = rules.update_draft(_notice(notice_id), data, console_actor())
    return jsonify(notice_payload(notice, with_progress=True))


@bp.post("/notices/<int:notice_id>/send")
@role_required("organizer")
def send(notice_id: int):
    """`{}` now, `{"at": "2021-10-24T09:00:00+08:00"}`, or
    `{"before_deadline": {"days": 7, "time": "09:00"}}` (campaign time)."""
    notice = _notice(notice_id)
    when = request.get_json(silent=True)
    if when is None:
        when = {}  # no body: send now
    elif not isinstance(when, dict):
        raise ApiError(400, "invalid_json", "请求内容必须是 JSON 对象")
    send_at = rules.send_time(notice.campaign, when, utcnow())
    notice = rules.schedule(notice, send_at, console_actor())
    anchor_to_deadline(notice, when)  # moving the deadline moves it (issue 10)
    if notice.send_at <= utcnow():
        jobs.start(notice.id)
    return jsonify(notice_payload(Notice.get_by_id(notice.id), with_progress=True)), 202


@bp.post("/notices/<int:notice_id>/cancel")
@role_required("organizer")
def cancel(notice_id: int):
    return _transition(notice_id, rules.cancel)


@bp.post("/notices/<int:notice_id>/pause")
@role_required("organizer")
def pause(notice_id: int):
    return _transition(notice_id, rules.pause)


@bp.post("/notices/<int:notice_id>/resume")
@role_required("organizer")
def resume(notice_id: int):
    response = _transition(notice_id, rules.resume)
    jobs.dispatch(notice_id)
    return response


@bp.post("/notices/<int:notice_id>/resend-unknown")
@role_required("organizer")
def resend_unknown(notice_id: int):
    """Send the `unknown` deliveries again: the organizer accepts that a few people may get
    the message twice (their first try may have arrived)."""
    notice = _notice(notice_id)
    count = rules.resend_unknown(notice, console_actor())
    if count and Notice.get_by_id(notice_id).state == rules.SENDING:
        jobs.dispatch(notice_id)
    return jsonify(requeued=count, notice=notice_payload(Notice.get_by_id(notice_id)))


@bp.get("/notices/<int:notice_id>/deliveries")
@role_required("organizer")
def deliveries(notice_id: int):
    """Pages of deliveries, `?state=failed&after=<last id>&limit=100`."""
    notice = _notice(notice_id)
    state = request.args.get("state") or None
    if state and state not in (*outbox.OPEN, *outbox.FINAL):
        raise Invalid([notice_problem("state", "invalid_choice")])
    limit = min(max(request.args.get("limit", 100, type=int), 1), PAGE_MAX)
    after = min(max(request.args.get("after", 0, type=int), 0), 2**31 - 1)
    rows = outbox.deliveries_page(notice.id, state, after, limit)
    people = {
        p["user_id"]: p for p in audiences.describe(notice.campaign, [r.user_id for r in rows])
    }
    items = [delivery_payload(row, people[row.user_id], notice.campaign.timezone) for row in rows]
    return jsonify(items=items, next=rows[-1].id if len(rows) == limit else None)


def _transition(notice_id: int, action):
    notice = action(_notice(notice_id), console_actor())
    return jsonify(notice_payload(notice, with_progress=True))


def _notice(notice_id: int) -> Notice:
    notice = Notice.get_or_none((Notice.id == notice_id) & (Notice.campaign == open_campaign()))
    if notice is None:
        raise NotFound()
    return notice


def notice_payload(notice: Notice, with_progress: bool = False) -> dict:
    zone = notice.campaign.timezone
    payload = {
        "id": notice.id,
        "title": notice.title,
        "state": notice.state,
        "state_reason": notice.state_reason,
        "template": template_payload(notice.template),
        "fallback_template": template_payload(notice.fallback_template),
        "values": notice.values,
        "audience": notice.audience,
        "send_at": iso_local(notice.send_at, zone),
        "auto_key": notice.auto_key,
        "total": notice.total,
        "created_by": notice.created_by,
        "created_at": iso_local(notice.created_at, zone),
        "finished_at": iso_local(notice.finished_at, zone),
    }
    if with_progress:
        payload["progress"] = outbox.progress(notice.id)
    return payload


def delivery_payload(row, person: dict, zone: str) -> dict:
    return {
        "id": row.id,
        "user_id": row.user_id,
        "unit": person["unit"],
        "region": person["region"],
        "department": person["department"],
        "state": row.state,
        "channel": row.channel,
        "reason": row.reason,
        "errcode": row.errcode,
        "attempts": row.attempts,
        "sent_at": iso_local(row.sent_at, zone),
    }
