"""The winner's side of the offline exchange, `/api/v1/me/exchange/…`: open sessions, the
unit's attendees, registering and cancelling them, and each attendee's QR ticket.

Another unit's attendee answers 404 exactly like a missing one.
"""

from flask import Blueprint, Response, jsonify

from api.access import open_campaign, own_unit
from api.errors import ApiError
from api.payload import json_object
from api.security import current_user, login_required
from campaign.clock import iso_local
from campaign.pii import mask_phone
from campaign.problems import is_row_id
from campaign.redeem import exchange
from drawing.qrdraw import link_png
from models import Attendee, ExchangeSession, Unit
from pages.tickets import ticket_url

bp = Blueprint("unit_exchange_api", __name__, url_prefix="/api/v1/me/exchange")


@bp.get("/sessions")
@login_required
def list_sessions():
    """The campaign's sessions with free seats, and whether the caller's unit may register."""
    campaign = open_campaign()
    unit = own_unit(campaign)
    items = [session_payload(s) for s in exchange.sessions_of(campaign)]
    return jsonify(items=items, eligible=bool(unit and exchange.is_winner(unit)))


@bp.get("/attendees")
@login_required
def list_attendees():
    return jsonify(items=attendee_payloads(exchange.unit_attendees(_unit())))


@bp.post("/attendees")
@login_required
def register():
    data = json_object()
    unit = _unit()
    wanted = data.get("session")
    session = (
        ExchangeSession.get_or_none(
            (ExchangeSession.id == wanted) & (ExchangeSession.campaign == unit.campaign_id)
        )
        if is_row_id(wanted)
        else None
    )
    if session is None:
        field = {"field": "session", "code": "not_found", "message": "场次不存在"}
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", [field])
    try:
        attendee = exchange.register(session, unit, data, f"user:{current_user().id}")
    except exchange.ExchangeInvalid as invalid:
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", invalid.problems) from None
    except exchange.ExchangeRefused as refused:
        raise ApiError(409, refused.code, refused.message) from None
    return jsonify(attendee_payload(Attendee.get_by_id(attendee.id))), 201


@bp.delete("/attendees/<int:attendee_id>")
@login_required
def cancel(attendee_id: int):
    attendee = _attendee(attendee_id)
    try:
        cancelled = exchange.cancel(attendee, f"user:{current_user().id}")
    except exchange.ExchangeRefused as refused:
        raise ApiError(409, refused.code, refused.message) from None
    return jsonify(attendee_payload(cancelled))


@bp.get("/attendees/<int:attendee_id>/ticket.png")
@login_required
def ticket_png(attendee_id: int):
    """The ticket's QR code (the printable page's URL) as a PNG for the mini-program."""
    attendee = _attendee(attendee_id)
    if attendee.status == exchange.CANCELLED:
        raise ApiError(404, "not_found", "请求的内容不存在")
    png = link_png(ticket_url(attendee.ticket_code))
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, no-store"})


def _unit() -> Unit:
    unit = own_unit(open_campaign())
    if unit is None:
        raise ApiError(404, "unit_not_registered", "尚未登记单位信息")
    return unit


def _attendee(attendee_id: int) -> Attendee:
    attendee = Attendee.get_or_none((Attendee.id == attendee_id) & (Attendee.unit == _unit()))
    if attendee is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return attendee


def session_payload(session: ExchangeSession) -> dict:
    counts = exchange.seat_counts(session)
    zone = session.campaign.timezone
    return {
        "id": session.id,
        "title": session.title,
        "place": session.place,
        "starts_at": iso_local(session.starts_at, zone),
        "ends_at": iso_local(session.ends_at, zone),
        "capacity": session.capacity,
        "seats_per_unit": session.seats_per_unit,
        "registration_open": session.registration_open,
        "accepting": exchange.accepting(session),
        "registered": counts[exchange.REGISTERED],
        "waiting": counts[exchange.WAITING],
        "seats_left": max(session.capacity - counts[exchange.REGISTERED], 0),
    }


def attendee_payloads(attendees: list[Attendee]) -> list[dict]:
    """Payloads of many attendees, their check-ins read in one query."""
    came = exchange.check_ins([attendee.id for attendee in attendees])
    return [attendee_payload(attendee, came) for attendee in attendees]


def attendee_payload(attendee: Attendee, came: dict | None = None) -> dict:
    """An attendee with their ticket (none once cancelled) and check-in; the phone masked."""
    came = exchange.check_ins([attendee.id]) if came is None else came
    session = attendee.session
    zone = session.campaign.timezone
    live = attendee.status != exchange.CANCELLED
    return {
        "id": attendee.id,
        "session": {
            "id": session.id,
            "title": session.title,
            "place": session.place,
            "starts_at": iso_local(session.starts_at, zone),
        },
        "unit": {"id": attendee.unit_id, "name": attendee.unit.name},
        "name": attendee.name,
        "phone": mask_phone(attendee.phone),
        "position": attendee.position,
        "status": attendee.status,
        "status_label": exchange.STATUS_LABELS[attendee.status],
        "checked_in_at": iso_local(came.get(attendee.id), zone),
        "ticket": {
            "code": attendee.ticket_code,
            "url": ticket_url(attendee.ticket_code),
            "valid": attendee.status == exchange.REGISTERED,
        }
        if live
        else None,
    }
