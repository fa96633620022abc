"""A winning unit, a session and tickets for the scan-engine and exchange tests."""

import datetime
import json
import subprocess
import sys
from pathlib import Path

from campaign.accounts import create_account
from campaign.redeem import exchange
from campaign.sessions import issue_token
from models import Attendee, Entry, ExchangeSession, Unit, WechatUser, db, utcnow

SCANNER = Path(__file__).with_name("redeem_scanner.py")
ROOT = Path(__file__).resolve().parents[2]


def winner(campaign, name: str = "中共某某社区委员会", openid: str = "o-winner", award=True):
    """A unit contact with a unit and (unless `award` is False) an awarded entry; (unit, token)."""
    user = WechatUser.create(app="wxa", openid=openid)
    unit = Unit.create(campaign=campaign, owner=user, name=name)
    Entry.create(
        campaign=campaign,
        unit=unit,
        owner=user,
        route="online",
        status="awarded" if award else "submitted",
        title="案例",
    )
    token, _ = issue_token(user)
    return unit, token


def session_of(campaign, capacity: int = 10, seats_per_unit: int = 2, **fields):
    starts = utcnow() + datetime.timedelta(days=7)
    return ExchangeSession.create(
        campaign=campaign,
        title=fields.pop("title", "线下交流会"),
        place=fields.pop("place", "福州市某某会议中心"),
        starts_at=fields.pop("starts_at", starts),
        capacity=capacity,
        seats_per_unit=seats_per_unit,
        **fields,
    )


def person(number: int = 1) -> dict:
    return {"name": f"参会人{number}", "phone": f"1380000{number:04d}", "position": "书记"}


def ticket(campaign, unit=None, session=None) -> Attendee:
    """One seated attendee with a ticket, registered through the rules."""
    unit = unit or winner(campaign)[0]
    session = session or session_of(campaign)
    return exchange.register(session, unit, person(), "test")


def many_tickets(campaign, count: int) -> list[str]:
    """`count` seated attendees in one big session, inserted in bulk; their ticket codes."""
    unit, _ = winner(campaign, openid="o-bulk")
    session = session_of(campaign, capacity=count, seats_per_unit=count)
    now = utcnow()
    rows = [
        {
            "campaign": campaign.id,
            "session": session.id,
            "unit": unit.id,
            "name": f"参会人{n}",
            "phone": "13800000000",
            "status": exchange.REGISTERED,
            "ticket_code": exchange.new_ticket_code(),
            "registered_by": "test",
            "created_at": now,
            "updated_at": now,
        }
        for n in range(count)
    ]
    Attendee.insert_many(rows).execute()
    return [row["ticket_code"] for row in rows]


def organizer_token(campaign, username: str = "door-organizer") -> str:
    account = create_account(username, "organizer-password", "organizer", "门口签到员", campaign)
    return issue_token(account)[0]


def together(database_url: str, commands: list[list[str]]) -> list[dict]:
    """Run `redeem_scanner.py` once per command in its own process, release them all at the
    same instant, and return their JSON answers in order."""
    db.close()  # SQLite: let the other processes see every committed row
    scanners = [
        subprocess.Popen(
            [sys.executable, str(SCANNER), database_url, *command],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for command in commands
    ]
    try:
        for scanner in scanners:
            assert scanner.stdout.readline().strip() == "ready"
        for scanner in scanners:
            scanner.stdin.write("go\n")
            scanner.stdin.flush()
        return [json.loads(scanner.communicate(timeout=60)[0]) for scanner in scanners]
    finally:
        for scanner in scanners:
            if scanner.poll() is None:
                scanner.kill()
                scanner.wait()
