"""Evidence for those who judge it (issue 10 §4): who may open which attachment, the
signed expiring links they open it with, and the organizers' verdict on what no machine
checks (`manual`: videos, PDFs, links; `timeout`: images WeChat never answered for).

A link carries only a signed attachment id and expires after `LINK_LIFETIME`: it can be
put in an <img> or opened in a new tab without a bearer token, and is useless a little later.
"""

from campaign.audit import record
from campaign.entries import media_links
from campaign.entries.evidence import BY_MIME
from models import Attachment, Entry, db

LINK_SALT = "evidence-view"
LINK_LIFETIME = 15 * 60
HIDDEN_FROM_DEPARTMENTS = ("risky", "blocked")
AWAITING_DECISION = ("manual", "timeout")
DECISIONS = {"pass": "cleared", "block": "blocked"}


class DecisionInvalid(Exception):
    def __init__(self, problems: list[dict]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def link_token(secret: str, attachment: Attachment) -> str:
    return media_links.media_token(secret, attachment.storage_key, salt=LINK_SALT)


def linked_attachment(secret: str, token: str) -> Attachment | None:
    """The attachment of a valid, unexpired link to a stored file, else None."""
    key = media_links.storage_key_for(secret, token, LINK_LIFETIME, salt=LINK_SALT)
    attachment = Attachment.get_or_none(Attachment.storage_key == key) if key else None
    if attachment is None or not attachment.storage_key or attachment.mime not in BY_MIME:
        return None
    return attachment


def for_department(entry: Entry) -> list[Attachment]:
    """What the entry's department may open: everything but what was found or ruled risky."""
    return list(
        Attachment.select()
        .where(
            (Attachment.entry == entry.id) & Attachment.check_status.not_in(HIDDEN_FROM_DEPARTMENTS)
        )
        .order_by(Attachment.id)
    )


def for_organizer(entry: Entry) -> list[Attachment]:
    return list(Attachment.select().where(Attachment.entry == entry.id).order_by(Attachment.id))


def awaiting_decision(campaign) -> list[Attachment]:
    """Evidence of submitted entries that waits for an organizer, oldest first."""
    return list(
        Attachment.select(Attachment, Entry)
        .join(Entry)
        .where(
            (Entry.campaign == campaign)
            & Entry.status.not_in(("draft", "withdrawn"))
            & Attachment.check_status.in_(AWAITING_DECISION)
        )
        .order_by(Attachment.id)
    )


def decide(attachment: Attachment, decision, reason, actor: str) -> Attachment:
    """An organizer passes (`cleared`) or blocks an item, with a reason; audited."""
    problems = []
    if decision not in DECISIONS:
        problems.append(_problem("decision", "invalid_choice", "请选择通过或屏蔽"))
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        problems.append(_problem("reason", "required", "请填写理由（500 字以内）"))
    if problems:
        raise DecisionInvalid(problems)
    verdict = DECISIONS[decision]
    with db.atomic():
        before = {"check_status": attachment.check_status}
        Attachment.update(check_status=verdict).where(Attachment.id == attachment.id).execute()
        after = {"check_status": verdict, "reason": reason.strip()}
        record(
            actor, "attachment.decision", attachment, before, after, attachment.entry.campaign_id
        )
    return Attachment.get_by_id(attachment.id)


def _problem(field: str, code: str, message: str) -> dict:
    return {"field": field, "code": code, "message": message}
