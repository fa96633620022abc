"""Organizers' side of the offline exchange, `/api/v1/org/exchange/…`: sessions, their
attendees and waiting lists, cancellations, badges (PDF) and the attendance sheet (Excel)."""

from flask import Blueprint, jsonify

from api.access import open_campaign
from api.errors import ApiError
from api.files import document
from api.payload import json_object
from api.security import console_actor, role_required
from api.unit.exchange import attendee_payload, attendee_payloads, session_payload
from campaign.clock import to_local
from campaign.redeem import attendance, exchange
from drawing.badges import Badge, badges_pdf
from models import Attendee, ExchangeSession
from pages.tickets import ticket_url

bp = Blueprint("org_exchange_api", __name__, url_prefix="/api/v1/org/exchange")


@bp.get("/sessions")
@role_required("organizer")
def list_sessions():
    return jsonify(items=[session_payload(s) for s in exchange.sessions_of(open_campaign())])


@bp.post("/sessions")
@role_required("organizer")
def create_session():
    try:
        session = exchange.create_session(open_campaign(), json_object(), console_actor())
    except exchange.ExchangeInvalid as invalid:
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", invalid.problems) from None
    return jsonify(session_payload(session)), 201


@bp.get("/sessions/<int:session_id>")
@role_required("organizer")
def show_session(session_id: int):
    return jsonify(session_payload(_session(session_id)))


@bp.patch("/sessions/<int:session_id>")
@role_required("organizer")
def update_session(session_id: int):
    data = json_object()
    try:
        session = exchange.update_session(_session(session_id), data, console_actor())
    except exchange.ExchangeInvalid as invalid:
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", invalid.problems) from None
    return jsonify(session_payload(session))


@bp.get("/sessions/<int:session_id>/attendees")
@role_required("organizer")
def list_attendees(session_id: int):
    return jsonify(items=attendee_payloads(exchange.session_attendees(_session(session_id))))


@bp.post("/attendees/<int:attendee_id>/cancel")
@role_required("organizer")
def cancel_attendee(attendee_id: int):
    attendee = Attendee.get_or_none(
        (Attendee.id == attendee_id) & (Attendee.campaign == open_campaign())
    )
    if attendee is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    try:
        return jsonify(attendee_payload(exchange.cancel(attendee, console_actor())))
    except exchange.ExchangeRefused as refused:
        raise ApiError(409, refused.code, refused.message) from None


@bp.get("/sessions/<int:session_id>/badges.pdf")
@role_required("organizer")
def badges(session_id: int):
    """Badges of every seated attendee, eight per A4 page, each with its ticket's QR code."""
    session = _session(session_id)
    return document(badges_document(session), f"胸牌-{session.id}.pdf", f"badges-{session.id}.pdf")


def badges_document(session: ExchangeSession) -> bytes:
    """The session's badges PDF (the console's download is the same file)."""
    starts = to_local(session.starts_at, session.campaign.timezone)
    line = " · ".join(filter(None, (session.title, f"{starts:%m月%d日 %H:%M}", session.place)))
    badges = [
        Badge(a.name, a.unit.name, line, ticket_url(a.ticket_code))
        for a in exchange.session_attendees(session)
        if a.status == exchange.REGISTERED
    ]
    return badges_pdf(badges, f"{session.title} 参会证")


@bp.get("/sessions/<int:session_id>/attendance.xlsx")
@role_required("organizer")
def attendance_sheet(session_id: int):
    session = _session(session_id)
    name = f"attendance-{session.id}.xlsx"
    return document(attendance.workbook(session), f"签到情况-{session.id}.xlsx", name)


def _session(session_id: int) -> ExchangeSession:
    session = ExchangeSession.get_or_none(
        (ExchangeSession.id == session_id) & (ExchangeSession.campaign == open_campaign())
    )
    if session is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return session
