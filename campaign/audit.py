"""The audit trail: who changed what, with the values before and after.

Callers write the audit row inside the same transaction as the change, so a rolled-back
change leaves no audit row and a committed one always has one.
"""

from campaign.pii import mask_phones_in
from logs import current_request_id
from models import AuditLog


def record(actor: str, action: str, obj, before=None, after=None, campaign=None) -> AuditLog:
    """Append one audit row for `obj` (a model instance); phone numbers are stored masked."""
    return AuditLog.create(
        campaign=campaign,
        actor=actor,
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=str(obj.id),
        before=mask_phones_in(before),
        after=mask_phones_in(after),
        request_id=current_request_id(),
    )
