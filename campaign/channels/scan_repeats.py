"""A repeat `/q/` scan by the same visitor within a window counts once (issue 11).

One browser reloading a poster link, or a script replaying it with the same cookie,
inflated the funnel (scans 9 → 1,009 in the hostile pass). Before touches are persisted,
a `link_scan` whose (code, visitor) was already counted less than `window` ago is dropped:
"counted" means a stored scan, so a visitor scanning every ten minutes counts once per
window, not once ever. It runs in the drain job, off the request path, and asks the
database (the record of what was counted), so it holds across web processes and restarts.

A client that refuses cookies is a new visitor every time; nginx's per-IP `limit_req` on
`/q/` (deploy/nginx.conf) bounds that.
"""

import datetime

from peewee import fn

from models import Channel, Touch

KIND = "link_scan"


def drop_repeat_scans(records: list[dict], window: datetime.timedelta) -> list[dict]:
    """`records` without the repeat scans, in their order; other touches pass untouched."""
    scans = [r for r in records if r.get("kind") == KIND and r.get("visitor") and r.get("code")]
    if not scans or window <= datetime.timedelta(0):
        return records
    moments = [datetime.datetime.fromisoformat(r["at"]) for r in scans]
    last_counted = dict(
        ((code, visitor), at)
        for code, visitor, at in Touch.select(Channel.code, Touch.visitor, fn.MAX(Touch.at))
        .join(Channel)
        .where(
            (Touch.kind == KIND)
            & Touch.visitor.in_({r["visitor"] for r in scans})
            & (Touch.at >= min(moments) - window)
        )
        .group_by(Channel.code, Touch.visitor)
        .tuples()
    )
    kept, scan_ids = [], {id(r) for r in scans}
    for record in records:
        if id(record) in scan_ids:
            key = (record["code"], record["visitor"])
            at = datetime.datetime.fromisoformat(record["at"])
            previous = last_counted.get(key)
            if previous is not None and previous <= at < previous + window:
                continue
            last_counted[key] = at
        kept.append(record)
    return kept
