"""Consent to subscribe messages: what users accepted, and spending it.

A one-time template allows one send per "accept" (WeChat answers 43101 otherwise); a
long-term template allows sends until the user turns it off. Grants come from the popup
events WeChat pushes and from what the mini-program reports; both land here.
"""

from peewee import IntegrityError

from models import MessageTemplate, SubscriptionGrant, WechatUser, db, utcnow

ACCEPT = "accept"


def is_long_term(template_id: str) -> bool:
    """Whether any campaign configured this template as long-term (政务民生 accounts)."""
    return (
        MessageTemplate.select()
        .where((MessageTemplate.template_id == template_id) & MessageTemplate.long_term)
        .exists()
    )


def record_answers(user: WechatUser, answers: dict[str, str]) -> dict[str, int]:
    """Apply popup answers `{template_id: accept|reject}`; return each template's remaining."""
    remaining = {}
    for template_id, answer in answers.items():
        delta = 1 if answer == ACCEPT else 0
        remaining[template_id] = _add_grant(user, template_id, delta, is_long_term(template_id))
    return remaining


def _add_grant(user: WechatUser, template_id: str, delta: int, long_term: bool) -> int:
    where = (SubscriptionGrant.user == user) & (SubscriptionGrant.template_id == template_id)
    changes = {"remaining": SubscriptionGrant.remaining + delta, "updated_at": utcnow()}
    if long_term and delta:
        changes["long_term"] = True
    with db.atomic():
        updated = SubscriptionGrant.update(**changes).where(where).execute()
        if not updated:
            try:
                with db.atomic():
                    SubscriptionGrant.create(
                        user=user,
                        template_id=template_id,
                        remaining=delta,
                        long_term=bool(long_term and delta),
                    )
            except IntegrityError:  # created concurrently: add on top of it
                SubscriptionGrant.update(remaining=SubscriptionGrant.remaining + delta).where(
                    where
                ).execute()
    return SubscriptionGrant.get(where).remaining


def revoke(user: WechatUser, template_id: str) -> None:
    """The user turned a template off in WeChat's settings: no more sends."""
    SubscriptionGrant.update(remaining=0, long_term=False, updated_at=utcnow()).where(
        (SubscriptionGrant.user == user) & (SubscriptionGrant.template_id == template_id)
    ).execute()


def consume(user_id: int, template_id: str) -> bool:
    """Spend one grant before a send (long-term grants are not spent); False if none."""
    where = (SubscriptionGrant.user == user_id) & (SubscriptionGrant.template_id == template_id)
    grant = SubscriptionGrant.get_or_none(where)
    if grant is None:
        return False
    if grant.long_term:
        return True
    spent = (
        SubscriptionGrant.update(remaining=SubscriptionGrant.remaining - 1)
        .where(where & (SubscriptionGrant.remaining > 0))
        .execute()
    )
    return bool(spent)
