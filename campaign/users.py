"""WeChat identities: created or refreshed from what WeChat's servers said, never a client."""

from peewee import IntegrityError

from campaign.names import clean_name
from models import WechatUser, insert_guard, utcnow


def upsert_user(app: str, openid: str, **fields) -> WechatUser:
    """The user of `app` with `openid`, created if new; non-empty `fields` are updated."""
    values = {key: value for key, value in fields.items() if value not in (None, "")}
    if isinstance(values.get("nickname"), str):  # shown to organizers: no invisible tricks
        values["nickname"] = clean_name(values["nickname"])[:100] or None
        if values["nickname"] is None:
            del values["nickname"]
    where = (WechatUser.app == app) & (WechatUser.openid == openid)
    user = WechatUser.get_or_none(where)
    if user is None:
        try:
            with insert_guard():
                return WechatUser.create(app=app, openid=openid, **values)
        except IntegrityError:  # a concurrent first login won the race
            user = WechatUser.get(where)
    values["last_seen_at"] = utcnow()
    WechatUser.update(**values).where(WechatUser.id == user.id).execute()
    for key, value in values.items():
        setattr(user, key, value)
    return user


def same_person(user: WechatUser) -> list[int]:
    """Ids of this WeChat user and of their other apps' users (same unionid)."""
    if not user.unionid:
        return [user.id]
    siblings = WechatUser.select(WechatUser.id).where(WechatUser.unionid == user.unionid)
    return sorted({user.id, *(row.id for row in siblings)})
