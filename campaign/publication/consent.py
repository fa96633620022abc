"""Consent to publish a unit's name (PIPL-minded: nothing is published without a yes).

The unit answers when it submits an entry (`name_consent` on the entry: True, False, or None
when never asked, e.g. entries submitted before the question existed). Only True publishes the
name; anything else shows the label the organizer chose for the list (default 名称不予公开).
"""

from campaign.audit import record
from models import Entry


def shown_unit(entry: Entry, withheld_label: str) -> tuple[str, bool]:
    """(what the public list shows in the unit column, whether the name was withheld)."""
    if entry.name_consent is True and entry.unit.name:
        return entry.unit.name, False
    return withheld_label, True


def consent_value(raw) -> bool | None:
    """The submit body's `publish_name` as consent: only a JSON boolean counts."""
    return raw if isinstance(raw, bool) else None


def record_consent(entry: Entry, granted: bool, actor: str) -> None:
    """Store an answer given outside submission (e.g. by phone to the organizer); audited."""
    before = {"name_consent": entry.name_consent}
    Entry.update(name_consent=granted).where(Entry.id == entry.id).execute()
    record(actor, "entry.name_consent", entry, before, {"name_consent": granted}, entry.campaign_id)
    entry.name_consent = granted
