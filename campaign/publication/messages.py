"""Publication, award and list-change notices to the units on a list, through the outbox.

Each is an ordinary notice (campaign.notices.operations) to the owners of the entries
concerned, keyed `publication:<id>:<event>` (`Notice.auto_key` is unique per campaign), so
each goes out once
however often the step is retried; the outbox sends only to people who granted the template
(consent) and reports the rest as "no consent". The template is the campaign's template of
purpose `publication` (an official-account one of that purpose as fallback); the keywords are
filled from its field mapping plus `Campaign.settings["publication_notices"][event]`. Without
such a template, or when the values break WeChat's rules, the notice is skipped and logged,
never sent half-filled, exactly like the automatic reminders.
"""

import logging

from peewee import IntegrityError

from campaign.notices import operations as notices
from campaign.notices.reminders import templates_for
from campaign.problems import Invalid
from models import Entry, Publication, utcnow

log = logging.getLogger(__name__)

ACTOR = "system:publication"
PURPOSE = "publication"
TITLES = {
    "published": "{list}公示通知（第{version}版）",
    "changed": "{list}调整通知（第{version}版）",
    "awarded": "入选结果通知",
}


def notify(publication: Publication, event: str, entry_ids, now=None) -> int | None:
    """Create and schedule the notice of `event` for the owners of `entry_ids`; its id, or None
    when there is nobody to tell, no template, or it exists already."""
    from campaign.publication.lists import KINDS

    campaign = publication.campaign
    owners = sorted(
        {row.owner_id for row in Entry.select(Entry.owner).where(Entry.id.in_(list(entry_ids)))}
    )
    templates = templates_for(campaign, PURPOSE)
    if not owners or templates is None:
        return None
    chosen = ((campaign.settings or {}).get("publication_notices") or {}).get(event) or {}
    data = {
        "title": TITLES[event].format(list=KINDS[publication.kind], version=publication.version),
        "template": templates[0],
        "fallback_template": templates[1],
        "values": {k: v for k, v in chosen.items() if isinstance(v, str)},
        "audience": {"group": "users", "users": owners},
    }
    key = f"publication:{publication.id}:{event}"
    try:
        notice = notices.create_notice(campaign, data, ACTOR, auto_key=key)
    except Invalid as invalid:
        log.warning("publication notice %s skipped: %s", key, invalid.problems)
        return None
    except IntegrityError:
        return None  # created before: once each
    return notices.schedule(notice, now or utcnow(), ACTOR).id
