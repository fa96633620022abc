"""`/tickets/<code>`: an attendee's ticket for the offline exchange, printable, with its QR.

The code is 128 random bits, so holding the link is holding the ticket (like an e-ticket
mail). The QR carries this page's own URL: a phone's camera opens the ticket, and the door's
scanner hands the URL to the scan engine, which keeps only the code. Personal data, so the
page is never cached, indexed or sent on as a referrer.
"""

import re

from flask import Blueprint, current_app, render_template

from campaign.clock import to_local
from campaign.redeem.exchange import STATUS_LABELS, attendee_by_ticket, check_ins
from drawing.qrdraw import link_svg

bp = Blueprint("tickets", __name__, template_folder="templates")

TICKET_CODE = re.compile(r"^[A-Za-z0-9_-]{16,32}$")
PRIVATE = {
    "Cache-Control": "private, no-store",
    "X-Robots-Tag": "noindex",
    "Referrer-Policy": "no-referrer",
}


@bp.get("/tickets/<code>")
def ticket(code: str):
    attendee = attendee_by_ticket(code) if TICKET_CODE.match(code) else None
    if attendee is None:
        page = render_template("h5/message.html", title="参会票", message="未找到该参会票。")
        return page, 404, PRIVATE
    session, zone = attendee.session, attendee.campaign.timezone
    checked_in = check_ins([attendee.id]).get(attendee.id)
    page = render_template(
        "tickets/ticket.html",
        attendee=attendee,
        session=session,
        status_label=STATUS_LABELS[attendee.status],
        starts=f"{to_local(session.starts_at, zone):%Y年%-m月%-d日 %H:%M}",
        checked_in=f"{to_local(checked_in, zone):%-m月%-d日 %H:%M}" if checked_in else None,
        qr_svg=_svg(link_svg(ticket_url(code))),
    )
    return page, 200, PRIVATE


def ticket_url(code: str) -> str:
    """This page's public URL, which is also what the ticket's QR code carries."""
    return f"{current_app.config['SETTINGS'].public_base_url}/tickets/{code}"


def _svg(content: bytes) -> str:
    """The SVG element alone (no XML declaration), for inlining into the page."""
    text = content.decode()
    return text[text.index("<svg") :]
