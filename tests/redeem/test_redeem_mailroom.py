"""The mailroom scans cover sheets with the same engine as the door: the first scan marks the
package received, a replay answers the same, another scanner hears who got there first."""

from campaign.mailin import rules as mailin
from campaign.redeem import engine
from models import MailIn
from tests.mailin.winners import make_winner


def test_a_cover_scan_marks_the_package_received_once(open_window):
    entry = make_winner(open_window)
    assert mailin.ensure_mailins(open_window) == 1  # the winner's package is expected
    row = MailIn.get(MailIn.entry == entry)
    first = engine.redeem(row.token, "nonce-1", None, "account:1")
    assert (first.status, first.target.kind) == ("redeemed", "mailin")
    assert MailIn.get_by_id(row.id).status == "received"
    replay = engine.redeem(row.token, "nonce-1", None, "account:1")
    assert replay.status == "redeemed" and replay.redemption.id == first.redemption.id
    other = engine.redeem(row.short_code, "nonce-2", None, "account:2")
    assert other.status == "already_redeemed" and other.redemption.by == "account:1"
