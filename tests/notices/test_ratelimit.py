"""The send rate holds across workers: a shared Redis token bucket, measured where it counts —
at the WeChat sandbox — with several real worker processes sending one notice."""

import itertools
import statistics
import threading
import time

import pytest

from models import Notice
from tasks.queue import redis_connection
from tasks.ratelimit import TokenBucket
from tests.notice_helpers import (
    WorkerProcesses,
    add_recipients,
    add_templates,
    notice_body,
    sends_by_openid,
    wait_for,
    worker_env,
)

pytest_plugins = ("tests.notice_fixtures",)  # organizer, fast_outbox

RATE = 40.0
WORKERS = 3
RECIPIENTS = 400


def achieved_rate(moments: list[float]) -> float:
    """Sends per second between the first and the last send."""
    moments = sorted(moments)
    return (len(moments) - 1) / (moments[-1] - moments[0])


def median_gap(moments: list[float]) -> float:
    """The typical spacing between consecutive sends, blind to a few long stalls."""
    moments = sorted(moments)
    return statistics.median(later - earlier for earlier, later in itertools.pairwise(moments))


def busiest_second(moments: list[float]) -> int:
    """The most sends in any one-second window."""
    moments = sorted(moments)
    most, start = 0, 0
    for end, moment in enumerate(moments):
        while moment - moments[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_the_bucket_spaces_takers_in_many_threads(app, no_collector_pauses):
    """The schedule the bucket books (on Redis' clock): never above the rate, and with six
    takers always waiting, no slot left empty. How closely the wake-ups follow it on a busy
    machine is a speed figure, printed by `bench.notices` with BENCH_NOTICE_RATE set."""
    bucket = TokenBucket(redis_connection(), "ratelimit:test-threads", rate=50.0)
    taken: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + 2.0

    def taker():
        while time.monotonic() < stop:
            booked = bucket.take()
            with lock:
                taken.append(booked)

    threads = [threading.Thread(target=taker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 0.95 * 50 <= achieved_rate(taken) <= 50
    assert busiest_second(taken) <= 50
    moments = sorted(taken)
    gaps = [later - earlier for earlier, later in zip(moments, moments[1:], strict=False)]
    assert min(gaps) >= 0.99 * (1 / 50) - 1e-4  # one token at a time, 1% headroom


def test_no_limit_means_no_waiting(app, monkeypatch):
    slept = []
    monkeypatch.setattr("tasks.ratelimit.time.sleep", slept.append)
    bucket = TokenBucket(redis_connection(), "ratelimit:test-none", rate=0)
    for _ in range(1000):
        assert bucket.take() is None
    assert slept == []
    assert not redis_connection().exists("ratelimit:test-none")  # not even asked


@pytest.mark.slow
def test_several_workers_together_keep_the_configured_rate(
    organizer, wechat, settings, redis_url, no_collector_pauses
):
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    users = add_recipients(campaign, wechat, settings, RECIPIENTS)
    workers = WorkerProcesses(worker_env(settings, redis_url, NOTICE_SEND_RATE=str(RATE)))
    try:
        workers.start(WORKERS)
        notice_id = organizer.post("/api/v1/org/notices", json=notice_body(wxa)).get_json()["id"]
        organizer.post(f"/api/v1/org/notices/{notice_id}/send", json={})
        assert wait_for(lambda: Notice.get_by_id(notice_id).state == "done", timeout=90)
    finally:
        workers.stop()
    assert sends_by_openid(wechat) == {user.openid: 1 for user in users}
    moments = [send["at"] for send in wechat.state.sends()]
    rate = achieved_rate(moments)
    busiest = busiest_second(moments)
    typical = median_gap(moments)
    print(
        f"\nrate limit: {RATE:.0f}/s configured, {rate:.2f}/s achieved by {WORKERS} workers "
        f"(WeChat's clock), busiest second {busiest}, median gap {typical * 1000:.1f} ms"
    )
    assert rate <= RATE
    # The workers keep pace: sends typically leave 1/rate apart, not more. The median, not
    # the mean: when the whole machine stalls (CI's collector, a neighbour's test run) the
    # slots of those moments are lost, as a limiter without bursts must lose them, and the
    # mean then measures the machine (37.8/s in a run beside two full suites). How much of
    # the rate a deployment holds is `bench.notices`'s figure (BENCH_NOTICE_RATE).
    assert typical <= 1.05 / RATE
    # Sends leave 1/rate apart; on this busy 2-core box they reach the sandbox up to ~10 ms
    # early or late, which can put a send or two more into one window. A burst (a bucket per
    # worker, or a large capacity) would put tens more.
    assert busiest <= RATE * 1.1
