"""Sending one delivery: claim it, take a token, call WeChat once, record what came of it.

WeChat's send call takes no idempotency key, so what matters is whether the request may have
reached WeChat. Before it left (token refused, Redis down, connection refused, connect
timeout), nothing was sent: retry with backoff. WeChat answered with an error: final, a
retry, or the circuit breaker, by its code. After it left and no answer came back (read
timeout, connection reset): `unknown`, never re-sent on our own; a send-result event or an
organizer's explicit re-send settles it.
"""

import logging
from collections import namedtuple

import requests
from redis.exceptions import RedisError
from urllib3.exceptions import NewConnectionError
from wechatpy.exceptions import WeChatClientException

from campaign.notices import operations as notice_rules
from campaign.notices import outbox, reach
from campaign.notices.subscriptions import revoke
from config import current_settings
from models import Notice, write_transaction
from tasks.ratelimit import TokenBucket
from wechat import calls
from wechat.client import TokenRejected, mp_client, wxa_client
from wechat.tokens import TokenError

log = logging.getLogger(__name__)

Outcome = namedtuple("Outcome", "kind reason errcode msgid", defaults=("", None, None))
SENT, RETRY, FINAL, UNKNOWN, HALT = "sent", "retry", "final", "unknown", "halt"
REDIS_DOWN = "redis_down"  # not sent; the job stops, the sweeper restarts the chain later
SKIPPED = "skipped"  # not ours to send: claimed by someone else, done, or the notice paused

TRANSIENT = {-1: "wechat_busy", 45011: "minute_quota"}
FINAL_ERRORS = {
    43101: "user_refused",
    40003: "invalid_openid",
    40037: "invalid_template",
    47003: "invalid_data",
    43004: "not_following",
}
BREAKERS = {45009: "daily_quota", 48001: "api_unauthorized"}
MINIPROGRAM_STATES = {"release": "formal", "trial": "trial", "develop": "developer"}


def prepare(notice: Notice, rows: list[outbox.Candidate]) -> dict:
    """Choose the way of every row of a batch that has none, spending its consent, in one
    transaction (one commit for the batch instead of one per row); rows with no way are
    settled `no_consent`. Returns {row id: way} for the rows whose way was chosen here; rows
    another worker is choosing for are left to it."""
    unchosen = {row.id: row for row in rows if not row.channel}
    ways: dict = {}
    if not unchosen:
        return ways
    with write_transaction():  # reads, then writes: SQLite must take its lock first
        by_channel: dict[str, list[int]] = {}
        by_reason: dict[str, list[int]] = {}
        locked = outbox.lock_unchosen(notice.id, list(unchosen))
        chosen = reach.choose_ways(notice, [unchosen[row_id].user_id for row_id in locked])
        for row_id in locked:
            way, reason = chosen[unchosen[row_id].user_id]
            if way is None:
                by_reason.setdefault(reason, []).append(row_id)
            else:
                ways[row_id] = way
                by_channel.setdefault(way.channel, []).append(row_id)
        for channel, ids in by_channel.items():
            outbox.fix_ways(ids, channel)
        for reason, ids in by_reason.items():
            outbox.settle_unreachable(ids, reason)
    return ways


def send_one(
    notice: Notice, row: outbox.Candidate, limits, buckets: dict, ways: dict, unsettled: list
) -> str:
    """Claim and send one row whose way is fixed; return what happened. `limits` gives the
    claim's `lease` and the reservation `hold` (seconds). A send's `sent` is recorded in the
    next claim's transaction (`unsettled` carries it; `flush` writes what is left), so a
    delivery costs one commit; a worker killed in between leaves that one row `unknown`."""
    attempt = row.attempts + 1
    if not outbox.claim(notice.id, row, limits.lease, sent=unsettled):
        return SKIPPED
    way = ways.get(row.id) or reach.way_again(notice, row.user_id, row.channel)
    if way is None:
        outbox.settle_final(row.id, attempt, outbox.FAILED, "not_reachable")
        return outbox.FAILED
    client = wxa_client() if way.channel == reach.WXA_SUBSCRIBE else mp_client()
    outcome = _before_sending(client, buckets[way.channel]) or _outcome(
        lambda: _call(client, notice, way)
    )
    if outcome.kind == SENT:
        unsettled.append((row.id, attempt, outcome.msgid))
        return SENT
    return _record(notice, row.id, attempt, way, outcome, limits.hold)


def flush(unsettled: list) -> None:
    """Write the `sent` outcomes not yet recorded."""
    while unsettled:
        outbox.settle_sent(*unsettled.pop(0))


def _before_sending(client, bucket: TokenBucket) -> Outcome | None:
    """Take a rate token and make sure of the access token. Whatever fails here, nothing was
    sent. (After the claim: rows without consent cost no token.)"""
    try:
        bucket.take()
        client.tokens.get()
    except TokenError as refused:
        return Outcome(HALT, "token_rejected", refused.errcode)
    except RedisError:
        return Outcome(REDIS_DOWN, "redis_unavailable")
    except Exception:  # the token service is unreachable or answered nonsense
        log.warning("no access token for a notice send", exc_info=True)
        return Outcome(RETRY, "token_unavailable")
    return None


def _call(client, notice: Notice, way: reach.Way) -> dict:
    settings = current_settings()
    data = {key: notice.values[key] for key in way.template.fields}
    template = way.template
    if way.channel == reach.WXA_SUBSCRIBE:
        state = MINIPROGRAM_STATES.get(settings.wxa_env_version, "formal")
        return calls.send_subscribe(
            client, way.openid, template.template_id, data, template.page, state
        )
    mini_program = (
        {"appid": settings.wxa.appid, "pagepath": template.page} if template.page else None
    )
    return calls.send_template(client, way.openid, template.template_id, data, mini_program)


def _outcome(send) -> Outcome:
    """Run the WeChat call and classify how it ended."""
    try:
        answer = send()
    except TokenRejected as refused:  # WeChat refused the token twice: nothing was sent
        return Outcome(HALT, "token_rejected", refused.errcode)
    except WeChatClientException as error:
        return _by_errcode(error.errcode)
    except RedisError:  # the client reads the token from Redis before the request leaves
        return Outcome(REDIS_DOWN, "redis_unavailable")
    except requests.ConnectTimeout:
        return Outcome(RETRY, "connect_failed")
    except requests.ConnectionError as error:
        if _never_connected(error):
            return Outcome(RETRY, "connect_failed")
        return Outcome(UNKNOWN, "connection_lost")
    except requests.Timeout:
        return Outcome(UNKNOWN, "response_timeout")
    except requests.RequestException:
        return Outcome(UNKNOWN, "connection_lost")
    except Exception:
        log.exception("notice send failed unexpectedly")
        return Outcome(UNKNOWN, "send_crashed")
    return Outcome(SENT, msgid=answer.get("msgid"))


def _by_errcode(errcode) -> Outcome:
    if errcode is None:  # an HTTP error or a body that is not JSON: it may have been sent
        return Outcome(UNKNOWN, "bad_response")
    if errcode in TRANSIENT:
        return Outcome(RETRY, TRANSIENT[errcode], errcode)
    if errcode in BREAKERS:
        return Outcome(HALT, BREAKERS[errcode], errcode)
    return Outcome(FINAL, FINAL_ERRORS.get(errcode, "wechat_error"), errcode)


def _never_connected(error: requests.ConnectionError) -> bool:
    """Connection refused or unreachable: the request never left."""
    cause = error.args[0] if error.args else None
    return isinstance(getattr(cause, "reason", cause), NewConnectionError)


def _record(notice, row_id: int, attempt: int, way, outcome: Outcome, hold: float) -> str:
    if outcome.kind == SENT:
        outbox.settle_sent(row_id, attempt, outcome.msgid)
    elif outcome.kind in (RETRY, REDIS_DOWN):
        outbox.settle_retry(row_id, attempt, outcome.reason, outcome.errcode, hold)
    elif outcome.kind == HALT:
        outbox.settle_unclaimed(row_id, attempt)
        notice_rules.halt(notice.id, outcome.reason)
    elif outcome.kind == UNKNOWN:
        outbox.settle_final(row_id, attempt, outbox.UNKNOWN, outcome.reason)
    else:
        outbox.settle_final(row_id, attempt, outbox.FAILED, outcome.reason, outcome.errcode)
        if outcome.errcode == 43101 and way.channel == reach.WXA_SUBSCRIBE:
            revoke(way.user_id, way.template.template_id)  # WeChat says no consent is left
    return outcome.kind


def buckets_for(redis, rate: float, burst: float) -> dict:
    """One shared bucket per WeChat send API."""
    return {
        channel: TokenBucket(redis, f"ratelimit:{channel}", rate, burst)
        for channel in (reach.WXA_SUBSCRIBE, reach.MP_TEMPLATE)
    }
