"""The offline exchange (线下交流): sessions, the attendees winning units register, the waiting
list, and the personal tickets the door scans.

A session has a capacity and a number of seats each unit may take. Only units with an
`awarded` entry may register. A registration beyond the capacity waits; when a seat frees
(a cancellation, a larger capacity) the earliest waiting attendee is seated. Every change to
a session's seats first writes the session row, which serializes them per session on SQLite
and on PostgreSQL alike, so two last-seat registrations cannot both be seated.
"""

import datetime
import secrets
from zoneinfo import ZoneInfo

from campaign.audit import record
from campaign.entries import status as entry_status
from campaign.problems import is_whole_number, problem
from campaign.redeem.engine import Target, first_scan, redemptions
from campaign.units import LANDLINE, MOBILE, normalize_phone
from models import Attendee, Campaign, Entry, ExchangeSession, Prepared, Unit, db, utcnow

REGISTERED = "registered"
WAITING = "waiting"
CANCELLED = "cancelled"
STATUS_LABELS = {REGISTERED: "已报名", WAITING: "候补", CANCELLED: "已取消"}
MESSAGES = {
    "required": "此项为必填项",
    "too_long": "内容过长",
    "invalid_characters": "含有不可见字符",
    "invalid_type": "格式不正确",
    "invalid_datetime": "时间格式不正确",
    "out_of_range": "数值超出范围",
    "ends_before_start": "结束时间应晚于开始时间",
    "below_seated": "容量不能少于已入座人数",
    "invalid_phone": "请填写正确的手机号或座机号（如 0591-87808286）",
}
REFUSALS = {
    "not_a_winner": "仅获奖单位可报名线下交流",
    "registration_closed": "该场次报名已截止",
    "unit_seats_full": "本单位在该场次的报名名额已满",
    "already_cancelled": "该报名已取消",
}
MAX_CAPACITY = 100_000
MAX_SEATS_PER_UNIT = 100


class ExchangeInvalid(Exception):
    """Field problems, every one at once (→ 422)."""

    def __init__(self, problems: list[dict]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


class ExchangeRefused(Exception):
    """A rule says no (→ 409); `code` is stable, the message Chinese."""

    def __init__(self, code: str, **details):
        super().__init__(code)
        self.code = code
        self.message = REFUSALS[code].format(**details)


def _problem(field: str, code: str, **details) -> dict:
    return problem(field, code, MESSAGES, **details)


# --- Sessions -----------------------------------------------------------------------------


def check_session(campaign: Campaign, data: dict, current: ExchangeSession | None = None) -> dict:
    """Clean session fields (all required when creating); ExchangeInvalid lists every problem."""
    clean, problems = {}, []
    for name, check in SESSION_FIELDS.items():
        if name in data:
            value, found = check(campaign, name, data[name])
            problems += found
            if not found:
                clean[name] = value
        elif current is None and name in ("title", "starts_at", "capacity"):
            problems.append(_problem(name, "required"))
    starts = clean.get("starts_at", current.starts_at if current else None)
    ends = clean.get("ends_at", current.ends_at if current else None)
    if starts and ends and ends <= starts:
        problems.append(_problem("ends_at", "ends_before_start"))
    if current is not None and "capacity" in clean:
        seated = seat_counts(current)[REGISTERED]
        if clean["capacity"] < seated:
            problems.append(_problem("capacity", "below_seated", seated=seated))
    if problems:
        raise ExchangeInvalid(problems)
    return clean


def _text(most: int, required: bool):
    def check(campaign, name, value):
        if not isinstance(value, str) or (required and not value.strip()):
            return None, [_problem(name, "required" if required else "invalid_type")]
        if len(value.strip()) > most:
            return None, [_problem(name, "too_long", max=most)]
        if not value.strip().isprintable():
            return None, [_problem(name, "invalid_characters")]
        return value.strip(), []

    return check


def _whole(low: int, high: int):
    def check(campaign, name, value):
        if not is_whole_number(value) or not low <= value <= high:
            return None, [_problem(name, "out_of_range", min=low, max=high)]
        return value, []

    return check


def _moment(nullable: bool):
    def check(campaign, name, value):
        if value is None and nullable:
            return None, []
        moment = parse_moment(value, campaign.timezone)
        return (moment, []) if moment else (None, [_problem(name, "invalid_datetime")])

    return check


def _flag(campaign, name, value):
    return (value, []) if isinstance(value, bool) else (None, [_problem(name, "invalid_type")])


SESSION_FIELDS = {
    "title": _text(200, True),
    "place": _text(200, False),
    "starts_at": _moment(False),
    "ends_at": _moment(True),
    "capacity": _whole(1, MAX_CAPACITY),
    "seats_per_unit": _whole(1, MAX_SEATS_PER_UNIT),
    "registration_open": _flag,
}


def parse_moment(value, timezone: str) -> datetime.datetime | None:
    """An ISO 8601 string as naive UTC; without an offset it is the campaign's local time."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(datetime.UTC).replace(tzinfo=None)


def create_session(campaign: Campaign, data: dict, actor: str) -> ExchangeSession:
    clean = check_session(campaign, data)
    with db.atomic():
        session = ExchangeSession.create(campaign=campaign, **clean)
        record(actor, "exchange.session.create", session, None, _view(clean), campaign=campaign)
    return session


def update_session(session: ExchangeSession, data: dict, actor: str) -> ExchangeSession:
    """Change a session; a larger capacity seats waiting attendees at once."""
    with db.atomic():
        _lock(session)
        session = ExchangeSession.get_by_id(session.id)
        clean = check_session(session.campaign, data, current=session)
        ExchangeSession.update(**clean).where(ExchangeSession.id == session.id).execute()
        record(actor, "exchange.session.update", session, None, _view(clean), session.campaign_id)
        _promote(ExchangeSession.get_by_id(session.id), actor)
    return ExchangeSession.get_by_id(session.id)


def _view(clean: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, datetime.datetime) else v for k, v in clean.items()}


def sessions_of(campaign: Campaign) -> list[ExchangeSession]:
    return list(
        ExchangeSession.select()
        .where(ExchangeSession.campaign == campaign)
        .order_by(ExchangeSession.starts_at, ExchangeSession.id)
    )


def seat_counts(session: ExchangeSession) -> dict:
    """`{"registered": n, "waiting": m}` for one session."""
    counts = {REGISTERED: 0, WAITING: 0}
    rows = (
        Attendee.select(Attendee.status, Attendee.id)
        .where((Attendee.session == session) & (Attendee.status != CANCELLED))
        .tuples()
    )
    for state, _ in rows:
        counts[state] += 1
    return counts


def _lock(session: ExchangeSession) -> None:
    """Write the session row first: later seat changes of this session wait for us to commit."""
    ExchangeSession.update(updated_at=utcnow()).where(ExchangeSession.id == session.id).execute()


# --- Attendees ------------------------------------------------------------------------------


def is_winner(unit: Unit) -> bool:
    """A unit with an awarded entry in its campaign."""
    return (
        Entry.select().where((Entry.unit == unit) & (Entry.status == entry_status.AWARDED)).exists()
    )


def check_attendee(data: dict) -> dict:
    problems, clean = [], {}
    for name, most, required in (("name", 30, True), ("position", 64, False)):
        value, found = _text(most, required)(None, name, data.get(name, None if required else ""))
        problems += found
        clean[name] = value
    phone = data.get("phone")
    if not isinstance(phone, str) or not phone.strip():
        problems.append(_problem("phone", "required"))
    else:
        clean["phone"] = normalize_phone(phone)
        if not (MOBILE.match(clean["phone"]) or LANDLINE.match(clean["phone"])):
            problems.append(_problem("phone", "invalid_phone"))
    if problems:
        raise ExchangeInvalid(problems)
    return clean


def register(session: ExchangeSession, unit: Unit, data: dict, actor: str) -> Attendee:
    """Seat a person of a winning unit, or put them on the waiting list when the session is
    full; ExchangeInvalid or ExchangeRefused otherwise."""
    clean = check_attendee(data)
    if not is_winner(unit):
        raise ExchangeRefused("not_a_winner")
    with db.atomic():
        _lock(session)
        session = ExchangeSession.get_by_id(session.id)
        if not accepting(session):
            raise ExchangeRefused("registration_closed")
        taken = (
            Attendee.select()
            .where(
                (Attendee.session == session)
                & (Attendee.unit == unit)
                & (Attendee.status != CANCELLED)
            )
            .count()
        )
        if taken >= session.seats_per_unit:
            raise ExchangeRefused("unit_seats_full")
        seated = seat_counts(session)[REGISTERED] < session.capacity
        attendee = Attendee.create(
            campaign=session.campaign_id,
            session=session,
            unit=unit,
            status=REGISTERED if seated else WAITING,
            ticket_code=new_ticket_code(),
            registered_by=actor,
            **clean,
        )
        after = {"session": session.id, "unit": unit.id, "status": attendee.status}
        record(actor, "exchange.register", attendee, None, after, campaign=session.campaign_id)
    return attendee


def accepting(session: ExchangeSession) -> bool:
    """Registration is open: the organizer has not closed it and the session has not begun."""
    return session.registration_open and session.starts_at > utcnow()


def new_ticket_code() -> str:
    """128 random bits, URL-safe: unguessable, so the code alone is the ticket."""
    return secrets.token_urlsafe(16)


def cancel(attendee: Attendee, actor: str) -> Attendee:
    """Cancel a registration; a freed seat goes to the earliest waiting attendee."""
    with db.atomic():
        _lock(attendee.session)
        current = Attendee.get_by_id(attendee.id)
        if current.status == CANCELLED:
            raise ExchangeRefused("already_cancelled")
        Attendee.update(status=CANCELLED, updated_at=utcnow()).where(
            Attendee.id == attendee.id
        ).execute()
        before, after = {"status": current.status}, {"status": CANCELLED}
        record(actor, "exchange.cancel", current, before, after, campaign=current.campaign_id)
        _promote(current.session, actor)
    return Attendee.get_by_id(attendee.id)


def _promote(session: ExchangeSession, actor: str) -> list[int]:
    """Seat waiting attendees, earliest first, while seats are free (caller holds the lock)."""
    free = session.capacity - seat_counts(session)[REGISTERED]
    if free <= 0:
        return []
    waiting = (
        Attendee.select()
        .where((Attendee.session == session) & (Attendee.status == WAITING))
        .order_by(Attendee.id)
        .limit(free)
    )
    seated = []
    for attendee in waiting:
        Attendee.update(status=REGISTERED, updated_at=utcnow()).where(
            Attendee.id == attendee.id
        ).execute()
        before, after = {"status": WAITING}, {"status": REGISTERED}
        record(actor, "exchange.promote", attendee, before, after, campaign=session.campaign_id)
        seated.append(attendee.id)
    return seated


def unit_attendees(unit: Unit) -> list[Attendee]:
    """A unit's registrations, in every session, newest session first."""
    return list(
        Attendee.select(Attendee, ExchangeSession)
        .join(ExchangeSession)
        .where(Attendee.unit == unit)
        .order_by(ExchangeSession.starts_at.desc(), Attendee.id)
    )


def session_attendees(session: ExchangeSession) -> list[Attendee]:
    """Everyone registered, waiting or cancelled in a session, with their unit."""
    return list(
        Attendee.select(Attendee, Unit)
        .join(Unit)
        .where(Attendee.session == session)
        .order_by(Attendee.id)
    )


def attendee_by_ticket(code: str) -> Attendee | None:
    return (
        Attendee.select(Attendee, ExchangeSession, Unit, Campaign)
        .join(ExchangeSession)
        .switch(Attendee)
        .join(Unit)
        .switch(Attendee)
        .join(Campaign)
        .where(Attendee.ticket_code == code)
        .first()
    )


# --- The door: tickets as scan-engine targets ----------------------------------------------

TICKET_REFUSALS = {
    CANCELLED: ("ticket_cancelled", "该报名已取消，票据无效"),
    WAITING: ("ticket_waiting", "该参会人仍在候补名单中，尚无座位"),
}


_TICKET = Prepared(
    lambda code: (
        Attendee.select(
            Attendee.id,
            Attendee.campaign,
            Attendee.status,
            Attendee.name,
            Unit.name,
            ExchangeSession.title,
        )
        .join(ExchangeSession)
        .switch(Attendee)
        .join(Unit)
        .where(Attendee.ticket_code == code)
        .tuples()
        .limit(1)
    ),
    "prepared-sample:ticket-code",
)


def ticket_target(code: str) -> Target | None:
    """The scan engine's resolver for `ticket` codes: one indexed query of the few columns
    the door shows (it runs on every scan)."""
    row = _TICKET.first(code)
    if row is None:
        return None
    attendee_id, campaign_id, state, name, unit, session = row
    return Target(
        kind="ticket",
        object_id=attendee_id,
        campaign_id=campaign_id,
        label={"name": name, "unit": unit, "session": session, "status": state},
        refusal=TICKET_REFUSALS.get(state),
    )


def check_ins(attendee_ids) -> dict[int, datetime.datetime]:
    """Attendee id → when their ticket was first scanned, for those who came."""
    scans = redemptions("ticket", attendee_ids)
    firsts = {attendee_id: first_scan(rows) for attendee_id, rows in scans.items()}
    return {attendee_id: row.scanned_at for attendee_id, row in firsts.items() if row}
