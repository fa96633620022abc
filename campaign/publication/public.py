"""What the public sees of a publication: the same content for the page and the JSON API.

Only frozen lines and the list's own texts: never scores, contacts, phone numbers, entry ids or
objections. `valid_until` is the moment the content stops being true on its own (the window
opening or closing), which bounds how long a cached copy may be served.
"""

import datetime
import itertools
from zoneinfo import ZoneInfo

from campaign.clock import iso_local
from campaign.publication import lists
from campaign.publication.window import window_state
from models import Publication, utcnow

WINDOW_LABELS = {"upcoming": "即将公示", "open": "公示中", "closed": "公示期已结束"}
STATE_LABELS = {
    lists.OPEN: "公示",
    lists.FINALIZED: "已定稿",
    lists.SUPERSEDED: "已更新（旧版本）",
}


def versions(publication: Publication) -> list[Publication]:
    return list(
        Publication.select()
        .where(
            (Publication.campaign == publication.campaign_id)
            & (Publication.kind == publication.kind)
        )
        .order_by(Publication.version)
    )


def payload(publication: Publication, now: datetime.datetime | None = None) -> dict:
    campaign = publication.campaign
    today = lists.local_today(campaign, now)
    window = window_state(publication.starts_on, publication.ends_on, today)
    every = versions(publication)
    newest = every[-1]
    return {
        "id": publication.id,
        "kind": publication.kind,
        "kind_label": lists.KINDS[publication.kind],
        "version": publication.version,
        "state": publication.state,
        "state_label": STATE_LABELS[publication.state],
        "title": publication.title,
        "intro": publication.intro,
        "note": lists.NOTE,
        "contact": publication.contact_text,
        "reason": publication.reason,
        "starts_on": str(publication.starts_on),
        "ends_on": str(publication.ends_on),
        "window": window,
        "window_label": WINDOW_LABELS[window],
        "objections_open": window == "open" and publication.state == lists.OPEN,
        "published_at": iso_local(publication.published_at, campaign.timezone),
        "latest": newest.id,
        "versions": [
            {"id": p.id, "version": p.version, "state": p.state, "reason": p.reason} for p in every
        ],
        "campaign": {"title": campaign.title, "organizer": campaign.organizer},
        "items": [
            {
                "no": item.position,
                "title": item.title,
                "unit": item.unit,
                "unit_withheld": item.unit_withheld,
                "domain": {"code": item.domain, "label": item.domain_label},
                "region": item.region,
                "award": {"code": item.award, "label": item.award_label},
            }
            for item in lists.items(publication)
        ],
    }


def groups(items: list[dict]) -> list[dict]:
    """Lines grouped by award, then domain (they are stored in that order)."""
    out = []
    for award, by_award in itertools.groupby(items, key=lambda line: line["award"]["label"]):
        by_domain = itertools.groupby(by_award, key=lambda line: line["domain"]["label"])
        domains = [{"label": domain, "items": list(lines)} for domain, lines in by_domain]
        out.append(
            {"label": award, "count": sum(len(d["items"]) for d in domains), "domains": domains}
        )
    return out


def valid_until(publication: Publication | None, campaign, now=None) -> float:
    """Epoch seconds at which this content's window state next changes (or a day from now)."""
    now = now or utcnow()
    later = now.replace(tzinfo=datetime.UTC).timestamp() + 24 * 3600
    if publication is None or campaign is None:
        return later
    zone = ZoneInfo(campaign.timezone)
    boundaries = (publication.starts_on, publication.ends_on + datetime.timedelta(days=1))
    for day in boundaries:
        moment = datetime.datetime.combine(day, datetime.time(0), zone).timestamp()
        if moment > now.replace(tzinfo=datetime.UTC).timestamp():
            return min(moment, later)
    return later
