"""WeChat pushes: accepted inline in milliseconds, processed exactly once by a job.

Inline (`accept_push`): a Redis set-if-absent on WeChat's de-duplication key (kept 10
minutes, well past WeChat's three tries), the passive reply (cached, so a retry gets the
same answer), the touch, and an enqueue. The job (`process_event`) inserts the
`InboundEvent` row — unique on the same key — in the same transaction as the effects, so
even with Redis emptied a retried push has its effect once.
"""

from peewee import IntegrityError
from rq import Retry

from campaign.subscriptions import record_answers, revoke
from campaign.users import upsert_user
from models import InboundEvent, db
from tasks.queue import get_queue, redis_connection
from tasks.touches import record_touch
from wechat.callbacks import dedupe_key
from wechat.handlers import Links, respond

SEEN_TTL = 600


def accept_push(kind: str, message: dict, links: Links) -> str | None:
    """Handle a verified push inline; return the passive reply text, or None for `success`."""
    redis = redis_connection()
    key = dedupe_key(message)
    seen = f"wechat:seen:{kind}:{key}"
    if not redis.set(seen, "1", nx=True, ex=SEEN_TTL):
        cached = redis.get(seen + ":reply")
        return cached.decode() if cached else None
    reply, touch = respond(message, links)
    if reply:
        redis.set(seen + ":reply", reply, ex=SEEN_TTL)
    if touch:
        record_touch(touch)
    get_queue("callbacks").enqueue(
        process_event, kind, key, message, job_timeout=60, retry=Retry(max=3, interval=[5, 30, 120])
    )
    return reply


@db.connection_context()
def process_event(kind: str, key: str, message: dict) -> str:
    """Record the push and apply its effect, once; return what happened."""
    msg_type = str(message.get("MsgType", "")).lower()
    event = str(message.get("Event", "")).lower()
    effect = EFFECTS.get((msg_type, event))
    state = "done" if effect else "ignored"
    with db.atomic():
        try:
            with db.atomic():
                InboundEvent.create(
                    app=kind,
                    dedupe_key=f"{kind}:{key}",
                    msg_type=msg_type,
                    event=event,
                    from_user=str(message.get("FromUserName", "")),
                    payload=message,
                    state=state,
                )
        except IntegrityError:
            return "duplicate"
        if effect:
            effect(kind, message)
    return state


def _follow(kind: str, message: dict) -> None:
    upsert_user("mp", message["FromUserName"], follower=True)


def _unfollow(kind: str, message: dict) -> None:
    upsert_user("mp", message["FromUserName"], follower=False)


def _popup_items(message: dict) -> list[dict]:
    """`List` items of a popup/change event, from XML (dict or list) or JSON."""
    container = (
        message.get("SubscribeMsgPopupEvent") or message.get("SubscribeMsgChangeEvent") or message
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
    record_answers(user, answers)


def _change(kind: str, message: dict) -> None:
    user = upsert_user(kind, message["FromUserName"])
    for item in _popup_items(message):
        if item.get("TemplateId") and item.get("SubscribeStatusString") == "reject":
            revoke(user, item["TemplateId"])


EFFECTS = {
    ("event", "subscribe"): _follow,
    ("event", "scan"): _follow,
    ("event", "unsubscribe"): _unfollow,
    ("event", "subscribe_msg_popup_event"): _popup,
    ("event", "subscribe_msg_change_event"): _change,
}
