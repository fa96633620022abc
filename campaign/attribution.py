"""Attribution: which route and department a user's unit and entries belong to.

The first touch through a channel fixes it (DESIGN §5.1); later touches only feed the
funnel. A user with no channel touch is attributed to the open online route when the unit
registers, which also freezes it. The official account and the mini-program are
different WeChat users: attribution follows the unionid from one to the other.
"""

from peewee import IntegrityError

from models import Attribution, Campaign, Channel, WechatUser, insert_guard

ONLINE_ROUTE = "online"


def attribute(campaign: Campaign, user: WechatUser, channel: Channel | None) -> Attribution:
    """Record the first touch of `user` in `campaign`; an existing attribution wins."""
    existing = attribution_of(campaign, user)
    if existing is not None:
        return existing
    values = {
        "campaign": campaign,
        "user": user,
        "channel": channel,
        "route": channel.route if channel else ONLINE_ROUTE,
        "department": channel.department_id if channel else None,
    }
    try:
        with insert_guard():
            return Attribution.create(**values)
    except IntegrityError:  # a concurrent touch of the same user got there first
        return Attribution.get((Attribution.campaign == campaign) & (Attribution.user == user))


def attribution_of(campaign: Campaign, user: WechatUser) -> Attribution | None:
    """The user's attribution, or one inherited from the same person's other WeChat app."""
    own = Attribution.get_or_none((Attribution.campaign == campaign) & (Attribution.user == user))
    if own is not None or not user.unionid:
        return own
    sibling = (
        Attribution.select()
        .join(WechatUser)
        .where(
            (Attribution.campaign == campaign)
            & (WechatUser.unionid == user.unionid)
            & (WechatUser.id != user.id)
        )
        .order_by(Attribution.created_at)
        .first()
    )
    if sibling is None:
        return None
    try:
        with insert_guard():
            return Attribution.create(
                campaign=campaign,
                user=user,
                channel=sibling.channel_id,
                route=sibling.route,
                department=sibling.department_id,
            )
    except IntegrityError:
        return Attribution.get((Attribution.campaign == campaign) & (Attribution.user == user))
