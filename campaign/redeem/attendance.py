"""The attendance sheet of a session, as Excel: who registered, who waited, who came, when.

Every text cell is neutralized against formula injection: names and units are typed by
users, and a cell starting with `=`, `+`, `-`, `@` or a tab would run as a formula in Excel or
WPS. Phones are masked: a door list needs no full number.
"""

import io

from campaign.clock import to_local
from campaign.pii import mask_phone
from campaign.redeem.engine import first_scan, redemptions
from campaign.redeem.exchange import STATUS_LABELS, session_attendees
from models import Attendee, ExchangeSession

HEADERS = ("序号", "姓名", "单位", "职务", "手机", "状态", "签到时间", "强制签到")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Text that a spreadsheet will show as text, never evaluate (a leading `'` escapes it)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def rows(session: ExchangeSession) -> list[list]:
    """One row per attendee, in registration order."""
    scans = redemptions("ticket", Attendee.select(Attendee.id).where(Attendee.session == session))
    forced = {object_id for object_id, rows in scans.items() if any(r.forced for r in rows)}
    zone = session.campaign.timezone
    table = []
    for number, attendee in enumerate(session_attendees(session), start=1):
        first = first_scan(scans.get(attendee.id, []))
        came = first.scanned_at if first else None
        table.append(
            [
                number,
                attendee.name,
                attendee.unit.name,
                attendee.position,
                mask_phone(attendee.phone) or "",
                STATUS_LABELS[attendee.status],
                to_local(came, zone).strftime("%Y-%m-%d %H:%M:%S") if came else "",
                "是" if attendee.id in forced else "",
            ]
        )
    return table


def workbook(session: ExchangeSession) -> bytes:
    """The .xlsx of `rows`, headed by the session's title, place and time."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("签到表")
    starts = to_local(session.starts_at, session.campaign.timezone)
    sheet.append([safe_cell(session.title), safe_cell(session.place), f"{starts:%Y-%m-%d %H:%M}"])
    sheet.append(list(HEADERS))
    for row in rows(session):
        sheet.append([safe_cell(value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
