"""The offline exchange (线下交流) in the console: sessions (create, edit), their attendees
with the waiting list, registering for a winning unit, cancelling, badges and the attendance
sheet, and each session's door-scan page. The rules are `campaign.redeem.exchange` and the
scan engine, as for the API (`api/org/exchange.py`)."""

from flask import Blueprint, redirect, request, url_for

from api.errors import ApiError
from api.files import document
from api.org.exchange import badges_document
from campaign.entries import status as entry_status
from campaign.pii import mask_phone
from campaign.redeem import attendance, exchange
from models import Attendee, Entry, ExchangeSession, Unit
from pages.console import scanning
from pages.console.layout import actor, campaign_or_404, page_for, paginate, render

bp = Blueprint("exchange", __name__)
NUMBERS = ("capacity", "seats_per_unit")
TEXTS = ("title", "place", "starts_at", "ends_at")


@bp.get("/exchange")
@page_for("organizer")
def index():
    query = (
        ExchangeSession.select()
        .where(ExchangeSession.campaign == campaign_or_404())
        .order_by(ExchangeSession.starts_at, ExchangeSession.id)
    )
    pager = paginate(query)
    pager["rows"] = [(s, exchange.seat_counts(s)) for s in pager["rows"]]
    return render("console/exchange_list.html", pager=pager)


@bp.post("/exchange/sessions")
@page_for("organizer")
def create():
    try:
        session = exchange.create_session(campaign_or_404(), _session_form(), actor())
    except exchange.ExchangeInvalid as invalid:
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", invalid.problems) from None
    return _to(session)


@bp.get("/exchange/<int:session_id>")
@page_for("organizer")
def show(session_id: int):
    session = _session(session_id)
    query = (
        Attendee.select(Attendee, Unit)
        .join(Unit)
        .where(Attendee.session == session)
        .order_by(Attendee.id)
    )
    pager = paginate(query)
    came = exchange.check_ins([a.id for a in pager["rows"]])
    return render(
        "console/exchange_session.html",
        session=session,
        counts=exchange.seat_counts(session),
        accepting=exchange.accepting(session),
        pager=pager,
        came=came,
        winners=_winning_units(session.campaign_id),
        mask=mask_phone,
        status_labels=exchange.STATUS_LABELS,
    )


@bp.post("/exchange/<int:session_id>")
@page_for("organizer")
def update(session_id: int):
    data = _session_form()
    data["registration_open"] = request.form.get("registration_open") == "on"
    try:
        session = exchange.update_session(_session(session_id), data, actor())
    except exchange.ExchangeInvalid as invalid:
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", invalid.problems) from None
    return _to(session)


@bp.post("/exchange/<int:session_id>/attendees")
@page_for("organizer")
def register(session_id: int):
    """Register a person for a winning unit (a phone call, a list sent by letter)."""
    session = _session(session_id)
    unit = Unit.get_or_none(
        (Unit.id == request.form.get("unit", type=int)) & (Unit.campaign == session.campaign_id)
    )
    if unit is None:
        field = {"field": "unit", "code": "required", "message": "请选择单位"}
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", [field])
    person = {name: request.form.get(name, "") for name in ("name", "phone", "position")}
    try:
        exchange.register(session, unit, person, actor())
    except exchange.ExchangeInvalid as invalid:
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", invalid.problems) from None
    except exchange.ExchangeRefused as refused:
        raise ApiError(409, refused.code, refused.message) from None
    return _to(session)


@bp.post("/exchange/attendees/<int:attendee_id>/cancel")
@page_for("organizer")
def cancel(attendee_id: int):
    attendee = Attendee.get_or_none(
        (Attendee.id == attendee_id) & (Attendee.campaign == campaign_or_404())
    )
    if attendee is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    try:
        exchange.cancel(attendee, actor())
    except exchange.ExchangeRefused as refused:
        raise ApiError(409, refused.code, refused.message) from None
    return _to(attendee.session)


@bp.get("/exchange/<int:session_id>/badges.pdf")
@page_for("organizer")
def badges(session_id: int):
    session = _session(session_id)
    return document(badges_document(session), f"胸牌-{session.id}.pdf", f"badges-{session.id}.pdf")


@bp.get("/exchange/<int:session_id>/attendance.xlsx")
@page_for("organizer")
def attendance_sheet(session_id: int):
    session = _session(session_id)
    name = f"attendance-{session.id}.xlsx"
    return document(attendance.workbook(session), f"签到情况-{session.id}.xlsx", name)


@bp.get("/exchange/<int:session_id>/door")
@page_for("organizer")
def door(session_id: int):
    session = _session(session_id)
    return render(
        "console/exchange_door.html", session=session, counts=exchange.seat_counts(session)
    )


@bp.post("/exchange/<int:session_id>/door/scan")
@page_for("organizer")
def door_scan(session_id: int):
    return scanning.scan_one("ticket", _at_door(_session(session_id)))


@bp.post("/exchange/<int:session_id>/door/scan/batch")
@page_for("organizer")
def door_scan_batch(session_id: int):
    return scanning.scan_batch("ticket", _at_door(_session(session_id)))


def _at_door(session: ExchangeSession):
    """Refuse a ticket of another session at this session's door, before it is recorded."""

    def belongs(target):
        attendee = Attendee.get_by_id(target.object_id)
        if attendee.session_id == session.id:
            return None
        code, message = scanning.OTHER_SESSION
        return code, message.format(session=target.label.get("session", ""))

    return belongs


def _session(session_id: int) -> ExchangeSession:
    session = ExchangeSession.get_or_none(
        (ExchangeSession.id == session_id) & (ExchangeSession.campaign == campaign_or_404())
    )
    if session is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return session


def _session_form() -> dict:
    """The session form as the rules' input (the API's JSON shape): numbers as numbers, an
    empty end time as none, empty optional fields left out."""
    form, data = request.form, {}
    for name in TEXTS:
        value = form.get(name, "").strip()
        if value or name in ("title", "starts_at") or (name == "place" and name in form):
            data[name] = value
        elif name == "ends_at" and name in form:
            data[name] = None
    for name in NUMBERS:
        value = form.get(name, "").strip()
        if value:
            data[name] = int(value) if value.isdigit() and len(value) < 10 else value
    return data


def _winning_units(campaign_id: int) -> list[Unit]:
    """Units with an awarded entry, the only ones that may register (`exchange.is_winner`)."""
    awarded = Entry.select(Entry.unit).where(
        (Entry.campaign == campaign_id) & (Entry.status == entry_status.AWARDED)
    )
    return list(Unit.select().where(Unit.id.in_(awarded)).order_by(Unit.name).limit(500))


def _to(session: ExchangeSession):
    location = url_for("console.exchange.show", session_id=session.id)
    if request.headers.get("HX-Request"):
        return "", 204, {"HX-Redirect": location}
    return redirect(location, 303)
