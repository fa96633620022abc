"""What a department endorsed, and what changed since (issue 10 §1).

An endorsed entry that the unit edits goes back to `submitted` (campaign.entries.operations), so the
department endorses again; to see what it is asked to vouch for anew, it gets the changes
against the version it last endorsed: the fields that differ and the evidence added or gone.
"""

from campaign.entries.operations import EDITABLE_FIELDS
from models import Attachment, Entry, EntryEndorsement


def snapshot(entry: Entry) -> dict:
    """The entry's fields and evidence (id, kind, name), as the department sees them now."""
    rows = Attachment.select().where(Attachment.entry == entry.id).order_by(Attachment.id)
    return {
        "fields": {name: getattr(entry, name) for name in EDITABLE_FIELDS},
        "attachments": [{"id": a.id, "kind": a.kind, "name": a.original_name} for a in rows],
    }


def remember(entry: Entry, actor: str) -> EntryEndorsement:
    """Keep what was endorsed (call inside the endorsement's transaction)."""
    return EntryEndorsement.create(entry=entry.id, data=snapshot(entry), actor=actor)


def last_endorsed(entry: Entry) -> EntryEndorsement | None:
    return (
        EntryEndorsement.select()
        .where(EntryEndorsement.entry == entry.id)
        .order_by(EntryEndorsement.id.desc())
        .first()
    )


def changes(entry: Entry) -> dict | None:
    """`{endorsed_at, fields: [{field, before, after}], attachments: {added, removed}}` since
    the last endorsement, or None if the entry was never endorsed."""
    endorsed = last_endorsed(entry)
    if endorsed is None:
        return None
    now = snapshot(entry)
    before = endorsed.data["fields"]
    fields = [
        {"field": name, "before": before.get(name), "after": value}
        for name, value in now["fields"].items()
        if before.get(name) != value
    ]
    then_ids = {a["id"] for a in endorsed.data["attachments"]}
    now_ids = {a["id"] for a in now["attachments"]}
    return {
        "endorsed_at": endorsed.at,
        "endorsed_by": endorsed.actor,
        "fields": fields,
        "attachments": {
            "added": [a for a in now["attachments"] if a["id"] not in then_ids],
            "removed": [a for a in endorsed.data["attachments"] if a["id"] not in now_ids],
        },
    }
