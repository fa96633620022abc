"""One subscribe-popup answer, reported twice, is one consent.

When a user accepts a template in the popup, WeChat pushes `subscribe_msg_popup_event` and
the mini-program reports the same answer through `POST /api/v1/subscriptions`. Counting both
would promise two sends where WeChat allows one. Reports are paired one to one per person,
template and source within PAIRING_WINDOW: the first of a pair adds a grant, its twin from
the other source adds nothing. Two real accepts still count twice (each has its twin), and a
report whose twin never comes still counts once. If Redis forgets the counters, an answer
may count twice: the extra send then gets 43101, which is recorded and zeroes the grant.
"""

from campaign.notices.subscriptions import ACCEPT, record_answers
from models import WechatUser
from tasks.queue import LuaScript

SOURCES = ("event", "api")
PAIRING_WINDOW = 600  # seconds: covers the inbox drain's delay behind the push

# KEYS[1]: unpaired reports from the other source, KEYS[2]: from this one. ARGV[1]: window.
_PAIR = LuaScript("""
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
  redis.call('DECR', KEYS[1])
  return 0
end
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[1])
return 1
""")


def _first_of_pair(user_id: int, template_id: str, source: str) -> bool:
    other = SOURCES[1 - SOURCES.index(source)]
    key = f"consent:{user_id}:{template_id}:"
    return bool(_PAIR(keys=[key + other, key + source], args=[PAIRING_WINDOW]))


def record_reported_answers(user: WechatUser, answers: dict[str, str], source: str) -> dict:
    """Apply popup answers reported by `source` ("event" or "api"); return what remains of
    each template's grant."""
    counted = {
        template_id: answer
        if answer != ACCEPT or _first_of_pair(user.id, template_id, source)
        else "paired"  # the twin of an accept already counted: adds nothing
        for template_id, answer in answers.items()
    }
    return record_answers(user, counted)
