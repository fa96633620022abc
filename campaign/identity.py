"""One person across the official account, H5 and the mini-program, linked by unionid.

Each WeChat app gives a person its own openid, so they are different `WechatUser` rows;
the unionid (from `cgi-bin/user/info`, OAuth or the mini-program login) says they are one
person. Linking keeps the rows (ownership is read through `users.same_person`) and makes
their attributions agree: in every campaign the earliest first touch of any of them wins,
as if there had been one user all along. Every link is audited, with what it changed.
"""

from campaign.audit import record
from models import Attribution, WechatUser, db

ACTION = "identity.merge"


def link_unionid(user: WechatUser, unionid: str | None, actor: str) -> list[int]:
    """Give `user` its unionid and merge it with the person's other identities; the ids of
    those other identities (empty when there are none or nothing was new)."""
    if not unionid or len(unionid) > 64:
        return []
    with db.atomic():
        known = user.unionid == unionid
        if not known:
            WechatUser.update(unionid=unionid).where(WechatUser.id == user.id).execute()
            user.unionid = unionid
        others = [
            row.id
            for row in WechatUser.select(WechatUser.id).where(
                (WechatUser.unionid == unionid) & (WechatUser.id != user.id)
            )
        ]
        changed = _agree(sorted({user.id, *others}))
        if others and (not known or changed):
            after = {"unionid": unionid, "with_users": others, "attributions": changed}
            record(actor, ACTION, user, {"unionid": None if not known else unionid}, after)
    return others


def _agree(ids: list[int]) -> list[dict]:
    """Per campaign, move every later attribution of these users onto the earliest one."""
    rows = list(
        Attribution.select()
        .where(Attribution.user.in_(ids))
        .order_by(Attribution.created_at, Attribution.id)
    )
    first: dict[int, Attribution] = {}
    changed = []
    for row in rows:
        winner = first.setdefault(row.campaign_id, row)
        same = (row.channel_id, row.route, row.department_id) == (
            winner.channel_id,
            winner.route,
            winner.department_id,
        )
        if row.id == winner.id or same or row.reassigned_by:
            continue  # the first touch itself, already agreeing, or an organizer's decision
        changed.append(
            {
                "attribution": row.id,
                "user": row.user_id,
                "campaign": row.campaign_id,
                "from": {"route": row.route, "department": row.department_id},
                "to": {"route": winner.route, "department": winner.department_id},
            }
        )
        Attribution.update(
            channel=winner.channel_id, route=winner.route, department=winner.department_id
        ).where(Attribution.id == row.id).execute()
    return changed
