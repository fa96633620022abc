"""The notice jobs: start, fan-out, send chains, and the sweeper that needs only the database.

RQ runs a job at least once (a killed worker's job re-runs from the start) and Redis may come
back empty, so every job re-reads the database and changes it only by conditional updates
(campaign.notices.outbox). A notice is sent by `senders` chains of jobs: chain k works the rows with
`id % senders == k`. A job starts with a batch of row ids it reserved and works batch after
batch of its slot for up to NOTICE_JOB_SECONDS (no fork or enqueue in between), then
reserves the next batch and enqueues it as a new job, so chains take turns on the workers.
Lose a job, a worker or all of Redis, and the slot's reservations simply expire:
`sweep_outbox` finds the slot dead and starts it again, so delivery is delayed, never lost,
and never doubled.

Settings (environment, read once per process; to move into config.py):
NOTICE_SEND_RATE (messages/s per WeChat send API across all workers, 0 = no limit; 20),
NOTICE_SEND_BURST (bucket capacity; 1), NOTICE_BATCH (rows per reservation; 100),
NOTICE_SENDERS (send chains per notice; 4), NOTICE_LEASE_SECONDS (a claimed row's lease; 60),
NOTICE_HOLD_SECONDS (a batch's reservation, renewed while it is worked; 120),
NOTICE_JOB_SECONDS (work per send job before it hands over; 30),
NOTICE_FANOUT_GRACE_SECONDS (a fan-out older than this is started again; 300).
"""

import datetime
import logging
import time

from redis.exceptions import RedisError

from campaign.notices import operations as rules
from campaign.notices import outbox
from campaign.notices.audiences import recipients
from config import NoticeSettings, current_settings
from models import Notice, db, utcnow
from tasks.notice_sending import HALT, REDIS_DOWN, SKIPPED, buckets_for, flush, prepare, send_one
from tasks.queue import get_queue, redis_connection

log = logging.getLogger(__name__)

QUEUE = "notices"
RESULT_TTL = 60  # outcomes live in the database; RQ's copy is never read
FAILURE_TTL = 7 * 24 * 3600  # long enough to look at, bounded so noeviction Redis never fills


def outbox_settings() -> NoticeSettings:
    """The outbox's settings (`NOTICE_*`, read once by config.py)."""
    return current_settings().notices


def _enqueue(func, *args, at: datetime.datetime | None = None, timeout: int = 600) -> None:
    """Enqueue on the notices queue (at a time, if given); Redis being down only delays:
    the sweeper enqueues again from the database."""
    options = {"job_timeout": timeout, "result_ttl": RESULT_TTL, "failure_ttl": FAILURE_TTL}
    queue = get_queue(QUEUE)
    try:
        if at is None:
            queue.enqueue(func, *args, **options)
        else:
            queue.enqueue_at(at.replace(tzinfo=datetime.UTC), func, *args, **options)
    except RedisError:
        log.warning("could not enqueue %s; the sweeper will retry", func.__name__)


def start(notice_id: int) -> bool:
    """Start a scheduled notice whose time has come: fan-out first."""
    if not rules.begin(notice_id):
        return False
    _enqueue(fan_out, notice_id)
    return True


@db.connection_context()
def fan_out(notice_id: int) -> int:
    """One pending row per person in the audience, then the send chains. Re-running it
    inserts nothing twice (the unique (notice, user) key) and starts no second set of chains
    (the notice leaves `preparing` once)."""
    notice = Notice.get_or_none(Notice.id == notice_id)
    if notice is None or notice.state != rules.PREPARING:
        return 0
    total = outbox.add_deliveries(notice_id, recipients(notice.campaign, notice.audience))
    if rules.fanned_out(notice_id, total):
        dispatch(notice_id)
    return total


def dispatch(notice_id: int) -> None:
    """Start every send chain of a notice (after its fan-out, or when it resumes)."""
    settings = outbox_settings()
    for slot in range(settings.senders):
        _next_batch(notice_id, slot, settings.senders)
    rules.finish_if_done(notice_id)


def _next_batch(notice_id: int, slot: int, slots: int, start: int = 0) -> None:
    """Carry on a chain (from row id `start`): enqueue its next batch, or come back when its
    earliest retry is due."""
    settings = outbox_settings()
    ids = outbox.reserve(notice_id, slot, slots, settings.batch, settings.hold, start)
    if ids:
        _enqueue(send_batch, notice_id, slot, slots, ids, timeout=_job_timeout(settings))
        return
    due = outbox.next_due(notice_id, slot, slots)
    if due is not None:
        _enqueue(send_batch, notice_id, slot, slots, [], at=max(due, utcnow()))


def _job_timeout(settings: NoticeSettings) -> int:
    return min(600, int(settings.job_seconds + settings.lease + 60))


@db.connection_context()
def send_batch(notice_id: int, slot: int, slots: int, ids: list[int]) -> dict:
    """Send the batch's rows that are still pending and due, then the slot's next batches in
    the same job (no fork, no enqueue between batches) until NOTICE_JOB_SECONDS are used;
    then hand the chain over to a new job."""
    settings = outbox_settings()
    notice = Notice.get_or_none(Notice.id == notice_id)
    if notice is None or notice.state != rules.SENDING:
        return {}
    ids = ids or outbox.reserve(notice_id, slot, slots, settings.batch, settings.hold)
    buckets = buckets_for(redis_connection(), settings.send_rate, settings.send_burst)
    outcomes: dict[str, int] = {}
    started = time.monotonic()
    start = 0
    while ids:
        start = min(ids)  # the next reservation goes on from here (rows left over included)
        if not _send_rows(notice, ids, settings, buckets, outcomes, started):
            return outcomes  # the chain stops here; reservations expire, the sweeper goes on
        if time.monotonic() - started >= settings.job_seconds:
            break  # hand over: the next job of the chain picks up what is left
        ids = outbox.reserve(notice_id, slot, slots, settings.batch, settings.hold, start)
    _next_batch(notice_id, slot, slots, start)
    rules.finish_if_done(notice_id)
    return outcomes


def _send_rows(notice, ids, settings, buckets, outcomes: dict, started: float) -> bool:
    """Send one batch, renewing its reservation as it goes; False when the chain must stop
    (Redis is down, or the notice no longer sends)."""
    renewed = time.monotonic()
    rows = outbox.candidates(ids)
    ways = prepare(notice, rows)
    unsettled: list = []
    try:
        for row in rows:
            if not row.channel and row.id not in ways:
                continue  # no consent, or another worker chose its way and sends it
            if time.monotonic() - started > settings.job_seconds:
                break
            if time.monotonic() - renewed > settings.hold / 3:
                outbox.renew(ids, settings.hold)
                renewed = time.monotonic()
            outcome = send_one(notice, row, settings, buckets, ways, unsettled)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if outcome == REDIS_DOWN or (outcome in (SKIPPED, HALT) and _stopped(notice.id)):
                return False
    finally:
        flush(unsettled)
    return True


def _stopped(notice_id: int) -> bool:
    return Notice.get_by_id(notice_id).state != rules.SENDING


@db.connection_context()
def sweep_outbox() -> dict:
    """The periodic safety net, from the database alone: start due notices, restart lost
    fan-outs, turn silent `sending` rows into `unknown`, restart dead send chains, and close
    finished notices."""
    settings = outbox_settings()
    report = {"unknown": outbox.expire_leases(), "reopened": rules.reopen_unfinished()}
    report["started"] = sum(start(notice_id) for notice_id in rules.due_notices())
    stalled = rules.stalled_fanouts(settings.fanout_grace)
    for notice_id in stalled:
        _enqueue(fan_out, notice_id)
    report["fanouts"] = len(stalled)
    report["chains"] = 0
    for notice_id in rules.sending_notices():
        for slot in outbox.dead_slots(notice_id, settings.senders):
            _next_batch(notice_id, slot, settings.senders)
            report["chains"] += 1
        rules.finish_if_done(notice_id)
    return report
