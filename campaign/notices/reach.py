"""How a delivery reaches a person, and with whose consent.

A mini-program subscribe message goes to the person's mini-program identity and spends one
of their grants for that template (never a send without one); an official-account template
message goes to their official-account identity if it follows the account. Identities of one
person share a unionid. The way is chosen once per delivery, before its first claim, in the
same transaction that records it on the row (`tasks.notice_sending.prepare`), so a consent is
spent at most once per delivery.
"""

from collections import namedtuple

from campaign.notices.subscriptions import consume
from models import MessageTemplate, Notice, SubscriptionGrant, WechatUser

Way = namedtuple("Way", "channel template user_id openid")

WXA_SUBSCRIBE = "wxa_subscribe"
MP_TEMPLATE = "mp_template"
APP_OF = {WXA_SUBSCRIBE: "wxa", MP_TEMPLATE: "mp"}


def identity(user_id: int, app: str, followers_only: bool = False) -> WechatUser | None:
    """The person's identity in `app` (the user itself, or a twin sharing its unionid)."""
    user = WechatUser.get_or_none(WechatUser.id == user_id)
    if user is None or (user.app != app and not user.unionid):
        return None
    if user.app == app:
        return user if user.follower or not followers_only else None
    twins = WechatUser.select().where(
        (WechatUser.app == app) & (WechatUser.unionid == user.unionid)
    )
    if followers_only:
        twins = twins.where(WechatUser.follower)
    return twins.order_by(WechatUser.id).first()


def choose_way(notice: Notice, user_id: int) -> tuple[Way | None, str]:
    """The way to reach the user, spending a one-time grant if it is a subscribe message;
    else (None, why not). Call inside the transaction that records the way on the row."""
    reasons = []
    for template in (notice.template, notice.fallback_template):
        if template is None:
            continue
        way, reason = _way(template, user_id)
        if way is not None:
            return way, ""
        reasons.append(reason)
    return None, reasons[0]


def choose_ways(notice: Notice, user_ids: list[int]) -> dict[int, tuple[Way | None, str]]:
    """`choose_way` for a batch of distinct users, in the same transaction. The common case
    (a subscribe message to the audience's own mini-program identity) takes three statements
    for the whole batch: identities, grants, and spending the one-time grants (`RETURNING`
    says whose were spent, so a grant another notice spent meanwhile is not counted). Everyone
    else goes through `choose_way`, one by one."""
    chosen: dict[int, tuple[Way | None, str]] = {}
    template = notice.template
    if template is not None and template.channel == WXA_SUBSCRIBE and user_ids:
        openids = dict(
            WechatUser.select(WechatUser.id, WechatUser.openid)
            .where(WechatUser.id.in_(user_ids) & (WechatUser.app == "wxa"))
            .tuples()
        )
        of_template = SubscriptionGrant.template_id == template.template_id
        usable = SubscriptionGrant.select(
            SubscriptionGrant.user, SubscriptionGrant.long_term
        ).where(
            SubscriptionGrant.user.in_(list(openids))
            & of_template
            & ((SubscriptionGrant.remaining > 0) | SubscriptionGrant.long_term)
        )
        long_term, one_time = [], []
        for user_id, is_long_term in usable.tuples():
            (long_term if is_long_term else one_time).append(user_id)
        spent = []
        if one_time:
            spent = [
                user_id
                for (user_id,) in SubscriptionGrant.update(
                    remaining=SubscriptionGrant.remaining - 1
                )
                .where(
                    SubscriptionGrant.user.in_(one_time)
                    & of_template
                    & (SubscriptionGrant.remaining > 0)
                    & ~SubscriptionGrant.long_term
                )
                .returning(SubscriptionGrant.user)
                .tuples()
                .execute()
            ]
        for user_id in (*long_term, *spent):
            chosen[user_id] = (Way(WXA_SUBSCRIBE, template, user_id, openids[user_id]), "")
    for user_id in user_ids:
        if user_id not in chosen:
            chosen[user_id] = choose_way(notice, user_id)
    return chosen


def _way(template: MessageTemplate, user_id: int) -> tuple[Way | None, str]:
    if template.channel == MP_TEMPLATE:
        follower = identity(user_id, "mp", followers_only=True)
        if follower is None:
            return None, "not_following"
        return Way(MP_TEMPLATE, template, follower.id, follower.openid), ""
    wxa = identity(user_id, "wxa")
    if wxa is None or not consume(wxa.id, template.template_id):
        return None, "no_grant"
    return Way(WXA_SUBSCRIBE, template, wxa.id, wxa.openid), ""


def count_reachable(user_ids: list[int], template=None, fallback=None) -> dict:
    """For a preview: how many of `user_ids` the template reaches (consent or following now),
    how many more the fallback reaches, and how many neither."""
    people = _people(user_ids)
    reached = _reached_by(template, people) if template else set()
    extra = (_reached_by(fallback, people) - reached) if fallback else set()
    return {
        "template": len(reached),
        "fallback": len(extra),
        "unreachable": len(user_ids) - len(reached) - len(extra),
    }


def _people(user_ids: list[int], chunk: int = 5000) -> dict[int, tuple]:
    """user id → (app, unionid)."""
    found = {}
    for start in range(0, len(user_ids), chunk):
        rows = WechatUser.select(WechatUser.id, WechatUser.app, WechatUser.unionid).where(
            WechatUser.id.in_(user_ids[start : start + chunk])
        )
        found.update({user_id: (app, unionid) for user_id, app, unionid in rows.tuples()})
    return found


def _reached_by(template: MessageTemplate, people: dict[int, tuple]) -> set[int]:
    """Audience ids whose identity in the template's app can receive it right now."""
    app = APP_OF[template.channel]
    if template.channel == MP_TEMPLATE:
        able = WechatUser.select(WechatUser.id, WechatUser.unionid).where(
            (WechatUser.app == app) & WechatUser.follower
        )
    else:
        able = (
            WechatUser.select(WechatUser.id, WechatUser.unionid)
            .join(SubscriptionGrant)
            .where(
                (WechatUser.app == app)
                & (SubscriptionGrant.template_id == template.template_id)
                & ((SubscriptionGrant.remaining > 0) | SubscriptionGrant.long_term)
            )
        )
    able_ids, able_unions = set(), set()
    for user_id, unionid in able.tuples():
        able_ids.add(user_id)
        able_unions.add(unionid)
    return {
        user_id
        for user_id, (user_app, unionid) in people.items()
        if (user_id in able_ids if user_app == app else unionid in able_unions - {None})
    }


def way_again(notice: Notice, user_id: int, channel: str) -> Way | None:
    """The way chosen at the first claim, for a retry: same template, no new consent spent."""
    template = notice.template if notice.template.channel == channel else notice.fallback_template
    person = identity(user_id, APP_OF[channel], followers_only=channel == MP_TEMPLATE)
    if template is None or person is None:
        return None
    return Way(channel, template, person.id, person.openid)
