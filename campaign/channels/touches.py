"""Touches: every scan and open, persisted in batches; the funnel's raw data.

Recording happens on the hot paths (`/q/<code>`, WeChat callbacks) as a Redis append;
`persist_touches` turns a batch of those records into rows and attributions in one
transaction. A record is a plain dict so it can cross Redis as JSON.
"""

import datetime

from campaign.attribution import attribute
from campaign.definition import current_campaign
from campaign.users import upsert_user
from models import Channel, Touch, db

KINDS = ("link_scan", "mp_scan", "mp_subscribe", "wxa_open", "oauth")


def touch_record(kind: str, code=None, app=None, openid=None, visitor=None, client="wechat"):
    """The JSON-able record of one touch, stamped now (UTC, seconds)."""
    if kind not in KINDS:
        raise ValueError(f"unknown touch kind {kind!r}")
    return {
        "kind": kind,
        "code": code,
        "app": app,
        "openid": openid,
        "visitor": visitor,
        "client": client,
        "at": datetime.datetime.now(datetime.UTC).replace(tzinfo=None).isoformat(),
    }


def persist_touches(records: list[dict]) -> int:
    """Write touch rows (and first-touch attributions) for `records`; return rows written."""
    campaign = current_campaign()
    if campaign is None or not records:
        return 0
    codes = {r["code"] for r in records if r.get("code")}
    channels = {c.code: c for c in Channel.select().where(Channel.code.in_(codes))} if codes else {}
    rows = []
    with db.atomic():
        for record in records:
            channel = channels.get(record.get("code"))
            owner = campaign if channel is None else channel.campaign
            user = None
            if record.get("openid") and record.get("app"):
                user = upsert_user(record["app"], record["openid"])
                if channel is not None:
                    attribute(owner, user, channel)
            rows.append(
                {
                    "campaign": owner.id if channel is None else channel.campaign_id,
                    "channel": channel.id if channel else None,
                    "user": user.id if user else None,
                    "visitor": record.get("visitor"),
                    "kind": record["kind"],
                    "client": record.get("client", "other"),
                    "at": datetime.datetime.fromisoformat(record["at"]),
                }
            )
        for start in range(0, len(rows), 500):
            Touch.insert_many(rows[start : start + 500]).execute()
    return len(rows)
