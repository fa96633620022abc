"""The live channel codes in Redis: the set every web process checks `/q/<code>` against.

The database is the truth; this set is its copy for the hot path. A version counter beside
it tells web processes (pages/scan_buffer.py) when to reload. Rebuilt whole by the periodic
schedule, amended when organizers change channels or departments.
"""

from campaign.channels.departments import is_live, live_codes
from models import db
from tasks.queue import redis_connection

LIVE_CODES = "qr:live-codes"
VERSION = "qr:live-codes:version"


@db.connection_context()
def rebuild_live_codes() -> int:
    """Rebuild the set from the database, swap it in whole, bump the version; return its size."""
    codes = live_codes()
    staging = f"{LIVE_CODES}:staging"
    with redis_connection().pipeline() as pipe:
        pipe.delete(staging)
        for start in range(0, len(codes), 1000):
            pipe.sadd(staging, *codes[start : start + 1000])
        if codes:
            pipe.rename(staging, LIVE_CODES)
        else:
            pipe.delete(LIVE_CODES)
        pipe.incr(VERSION)
        pipe.execute()
    return len(codes)


def amend_live_codes(codes: list[str]) -> None:
    """After channels or departments changed: add the live ones, remove the others, bump."""
    if not codes:
        return
    if not redis_connection().exists(VERSION):  # no set to amend: build it whole
        rebuild_live_codes()
        return
    live = [code for code in codes if is_live(code)]
    dead = [code for code in codes if code not in live]
    with redis_connection().pipeline() as pipe:
        if live:
            pipe.sadd(LIVE_CODES, *live)
        if dead:
            pipe.srem(LIVE_CODES, *dead)
        pipe.incr(VERSION)
        pipe.execute()
