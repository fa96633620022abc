"""Review messages go out through the notice outbox like every other message: an ordinary
notice to an explicit list of people, with a unique `auto_key` so that the same event
(a run published, a batch of decisions applied) makes one notice, hence one message per
person (the outbox's unique (notice, user) key)."""

import logging

from peewee import IntegrityError

from campaign.notices import operations as notices
from campaign.notices.reminders import templates_for
from campaign.problems import Invalid
from models import Campaign, utcnow

log = logging.getLogger(__name__)


def queue_notice(
    campaign: Campaign, purposes: tuple, user_ids: list, auto_key: str, title: str, actor: str
) -> int | None:
    """A scheduled notice (start it with tasks.notices.start) to `user_ids`, with the template
    of the first of `purposes` the campaign has (then "general"); None when nobody is
    reachable, there is no template, or this event was announced already."""
    users = sorted({u for u in user_ids if u})
    templates = next(
        (found for p in (*purposes, "general") if (found := templates_for(campaign, p))), None
    )
    if not users or templates is None:
        return None
    data = {
        "title": title,
        "template": templates[0],
        "fallback_template": templates[1],
        "values": {},
        "audience": {"group": "users", "users": users},
    }
    try:
        notice = notices.create_notice(campaign, data, actor, auto_key=auto_key)
    except Invalid as invalid:
        log.warning("review notice %s not sent: %s", auto_key, invalid.problems)
        return None
    except IntegrityError:
        return None  # this event was announced already
    return notices.schedule(notice, utcnow(), actor).id
