"""Personal data shown only to those who need it: phone numbers masked everywhere but in
what organizers with the PII right (`Account.pii`) export, and never stored whole in the
audit log.

`13800138000` → `138****8000`, `0591-87808286` → `059****8286`: the first three and the
last four characters stay, enough to tell two contacts apart.
"""

import re

from models import Account, db

# A Chinese mobile number, or a landline with its area code, inside any text.
PHONE_IN_TEXT = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")


def mask_phone(phone: str | None) -> str | None:
    """`138****5678`: how a phone number appears in responses, logs and exports."""
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def mask_phones_in(data):
    """A copy of JSON-like `data` with every phone masked: values of keys naming a phone,
    and phone numbers inside any other text."""
    if isinstance(data, dict):
        return {
            key: mask_phone(value)
            if "phone" in str(key).lower() and isinstance(value, str) and value
            else mask_phones_in(value)
            for key, value in data.items()
        }
    if isinstance(data, list | tuple):
        return [mask_phones_in(item) for item in data]
    if isinstance(data, str):
        return PHONE_IN_TEXT.sub(lambda found: mask_phone(found.group(0)), data)
    return data


def set_pii_right(account, granted: bool, actor: str):
    """Grant or revoke an organizer's right to see whole phone numbers in exports; audited."""
    from campaign.audit import record  # here: campaign.audit imports this module

    with db.atomic():
        Account.update(pii=granted).where(Account.id == account.id).execute()
        record(actor, "account.pii", account, {"pii": account.pii}, {"pii": granted})
    return Account.get_by_id(account.id)
