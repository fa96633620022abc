"""WeChat pushes: accepted inline in one Redis round trip, processed exactly once by a job.

Inline (`accept_push`), one Lua script does it all atomically: set-if-absent on WeChat's
de-duplication key (kept 10 minutes, well past WeChat's three tries), cache the passive
reply (so a retry gets the same answer), and append the push to the inbox and its touch to
the touch buffer. The drain job (`drain_inbox`) inserts an `InboundEvent` row — unique on
the same key — in the same transaction as the effects, so even with Redis emptied a
retried push has its effect once.
"""

import json
import logging

from peewee import IntegrityError
from requests import RequestException
from wechatpy.exceptions import WeChatClientException

from campaign.console_login import confirm_scan
from campaign.entries.evidence import record_media_verdict
from campaign.identity import link_unionid
from campaign.notices.outbox import reconcile
from campaign.notices.subscriptions import revoke
from campaign.users import same_person, upsert_user
from models import InboundEvent, WechatUser, db
from tasks.buffers import drain, schedule_drain
from tasks.consent import record_reported_answers
from tasks.queue import LuaScript
from tasks.touches import BUFFER as TOUCHES
from tasks.touches import flush_touches
from wechat import calls
from wechat.callbacks import dedupe_key
from wechat.client import mp_client
from wechat.handlers import Links, respond

log = logging.getLogger(__name__)

INBOX = "wechat:inbox"
SEEN_TTL = 600

# KEYS: seen, reply, inbox, touches. ARGV: ttl, push, reply or "", touch or "".
_ACCEPT = LuaScript("""
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  if ARGV[3] ~= '' then redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[1]) end
  local inbox = redis.call('RPUSH', KEYS[3], ARGV[2])
  local touches = 0
  if ARGV[4] ~= '' then touches = redis.call('RPUSH', KEYS[4], ARGV[4]) end
  return {1, inbox, touches}
end
return {0, redis.call('GET', KEYS[2]) or '', 0}
""")


def accept_push(kind: str, message: dict, links: Links) -> str | None:
    """Handle a verified push inline; return the passive reply text, or None for `success`."""
    key = dedupe_key(message)
    reply, touch = respond(message, links)
    push = {"kind": kind, "key": key, "message": message}
    seen = f"wechat:seen:{kind}:{key}"
    new, second, touches = _ACCEPT(
        keys=[seen, seen + ":reply", INBOX, TOUCHES],
        args=[
            SEEN_TTL,
            json.dumps(push, ensure_ascii=False),
            reply or "",
            json.dumps(touch) if touch else "",
        ],
    )
    if not new:
        return second.decode() if second else None
    if second == 1:
        schedule_drain(drain_inbox)
    if touches == 1:
        schedule_drain(flush_touches)
    return reply


@db.connection_context()
def drain_inbox() -> int:
    """Process every buffered push; return how many were applied."""
    return drain(INBOX, _process_batch)


def _process_batch(pushes: list[dict]) -> int:
    outcomes = [process_event(p["kind"], p["key"], p["message"]) for p in pushes]
    return outcomes.count("done")


def process_event(kind: str, key: str, message: dict) -> str:
    """Record the push and apply its effect, once; return what happened."""
    msg_type = str(message.get("MsgType", "")).lower()
    event = str(message.get("Event", "")).lower()
    effect = EFFECTS.get((msg_type, event))
    row = {
        "app": kind,
        "dedupe_key": f"{kind}:{key}",
        "msg_type": msg_type,
        "event": event,
        "from_user": str(message.get("FromUserName", "")),
        "payload": message,
        "state": "done" if effect else "ignored",
    }
    try:
        with db.atomic():
            InboundEvent.create(**row)
            if effect:
                effect(kind, message)
    except IntegrityError:
        return "duplicate"
    except Exception:  # a bug in one effect must not block the inbox behind it
        log.exception("push effect failed", extra={"fields": {"key": row["dedupe_key"]}})
        with db.atomic():
            InboundEvent.insert(**{**row, "state": "failed"}).on_conflict_ignore().execute()
        return "failed"
    return row["state"]


def _follow(kind: str, message: dict) -> None:
    user = upsert_user("mp", message["FromUserName"], follower=True)
    confirm_scan(user, message.get("EventKey"))  # a department console login QR, if it is one
    _fetch_unionid(user)


def _fetch_unionid(user: WechatUser) -> None:
    """A follower's unionid comes only from `cgi-bin/user/info`: ask, then link the person's
    identities in the other apps (campaign.identity). WeChat down: the next follow tries again."""
    if user.unionid:
        return
    try:
        info = calls.user_info(mp_client(), user.openid)
    except (WeChatClientException, RequestException) as failed:
        log.warning("user/info failed for user %s: %s", user.id, failed)
        return
    link_unionid(user, info.get("unionid"), "system:follow")


def _unfollow(kind: str, message: dict) -> None:
    upsert_user("mp", message["FromUserName"], follower=False)


def _popup_items(message: dict) -> list[dict]:
    """`List` items of a subscribe-message event (popup, change, sent), from XML or JSON."""
    container = (
        message.get("SubscribeMsgPopupEvent")
        or message.get("SubscribeMsgChangeEvent")
        or message.get("SubscribeMsgSentEvent")
        or message
    )
    items = container.get("List", []) if isinstance(container, dict) else []
    return [items] if isinstance(items, dict) else [i for i in items if isinstance(i, dict)]


def _popup(kind: str, message: dict) -> None:
    user = upsert_user(kind, message["FromUserName"])
    answers = {
        item["TemplateId"]: item.get("SubscribeStatusString", "")
        for item in _popup_items(message)
        if item.get("TemplateId")
    }
    record_reported_answers(user, answers, "event")  # the mini-program may report it too


def _change(kind: str, message: dict) -> None:
    user = upsert_user(kind, message["FromUserName"])
    for item in _popup_items(message):
        if item.get("TemplateId") and item.get("SubscribeStatusString") == "reject":
            revoke(user, item["TemplateId"])


def _media_verdict(kind: str, message: dict) -> None:
    result = message.get("result") if isinstance(message.get("result"), dict) else {}
    if message.get("trace_id"):
        record_media_verdict(str(message["trace_id"]), str(result.get("suggest", "")))


def _sender_ids(kind: str, message: dict) -> list[int]:
    user = WechatUser.get_or_none(
        (WechatUser.app == kind) & (WechatUser.openid == str(message.get("FromUserName", "")))
    )
    return same_person(user) if user else []


def _template_sent(kind: str, message: dict) -> None:
    """TEMPLATESENDJOBFINISH: settles the template message it reports on (even one whose
    send answer was lost); `failed:user block` and `failed: system failed` become failed."""
    status = str(message.get("Status", ""))
    reason = "user_blocked" if "block" in status else "delivery_failed"
    ids = _sender_ids(kind, message)
    reconcile("mp_template", ids, message.get("MsgID"), status == "success", reason)


def _subscribe_sent(kind: str, message: dict) -> None:
    """subscribe_msg_sent_event: the result of each subscribe message, where WeChat sends it."""
    if kind != "wxa":
        return
    ids = _sender_ids(kind, message)
    for item in _popup_items(message):
        delivered = str(item.get("ErrorCode", "")) == "0"
        template_id = item.get("TemplateId")
        reconcile(
            "wxa_subscribe", ids, item.get("MsgID"), delivered, "delivery_failed", template_id
        )


EFFECTS = {
    ("event", "subscribe"): _follow,
    ("event", "scan"): _follow,
    ("event", "unsubscribe"): _unfollow,
    ("event", "subscribe_msg_popup_event"): _popup,
    ("event", "subscribe_msg_change_event"): _change,
    ("event", "templatesendjobfinish"): _template_sent,
    ("event", "subscribe_msg_sent_event"): _subscribe_sent,
    ("event", "wxa_media_check"): _media_verdict,
}
