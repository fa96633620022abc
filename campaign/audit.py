"""The audit trail: who changed what, with the values before and after.

Callers write the audit row inside the same transaction as the change, so a rolled-back
change leaves no audit row and a committed one always has one.
"""

from peewee import ForeignKeyField

from campaign.pii import mask_phones_in
from logs import current_request_id
from models import AuditLog, Campaign, write_later


def record(actor: str, action: str, obj, before=None, after=None, campaign=None) -> None:
    """Append one audit row for `obj` (a model instance); phone numbers are stored masked.
    The row belongs to `campaign`, or else to the campaign `obj` belongs to, so that the
    organizer's audit view (which reads one campaign) shows every change to its objects.
    Nobody reads the row back, so on PostgreSQL it travels with the transaction's COMMIT."""
    if campaign is None:
        campaign = campaign_of(obj)
    write_later(
        AuditLog.insert(
            campaign=campaign,
            actor=actor,
            action=action,
            object_type=type(obj).__name__.lower(),
            object_id=str(obj.id),
            before=mask_phones_in(before),
            after=mask_phones_in(after),
            request_id=current_request_id(),
        )
    )


def campaign_of(obj, depth: int = 2) -> int | None:
    """The id of the campaign `obj` belongs to: itself, its own campaign column, or (up to
    `depth` links away) the campaign of the row a foreign key points to — an attachment's
    entry, an attendee's session. None for objects of no campaign (a global account)."""
    if isinstance(obj, Campaign):
        return obj.id
    meta = getattr(type(obj), "_meta", None)
    fields = [f for f in meta.sorted_fields if isinstance(f, ForeignKeyField)] if meta else []
    for field in fields:
        if field.rel_model is Campaign:
            return obj.__data__.get(field.name)
    if depth > 0:
        for field in fields:
            if obj.__data__.get(field.name) is not None:
                found = campaign_of(getattr(obj, field.name), depth - 1)
                if found is not None:
                    return found
    return None
