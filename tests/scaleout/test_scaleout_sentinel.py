"""Redis behind Sentinel: the primary dies in the middle of a notice; the sentinels promote
the replica; the web app, the worker processes and the sweeper follow it. Nothing is lost and
nothing is sent twice (the database outbox is the record), and `/readyz` tells the outage
and the recovery. WeChat pushes, whose script runs on a connection the web process holds
(tasks.queue.LuaScript), reach the new primary whether the old one was killed or demoted."""

import json
import threading
import time
import zlib

import pytest
from redis import Redis

import tasks.queue
from models import Delivery, InboundEvent, Notice, WechatUser, db
from tasks.notices import sweep_outbox
from tasks.wechat_events import INBOX
from tests import pushes
from tests.notice_helpers import (
    WorkerProcesses,
    add_recipients,
    add_templates,
    notice_body,
    wait_for,
    worker_env,
)
from tests.scaleout.redis_sentinel import MASTER, SentinelGroup

pytest_plugins = ("tests.notice_fixtures",)  # organizer

RECIPIENTS = 600
OUTBOX = {
    "NOTICE_SEND_RATE": "60",  # ten seconds of sending: the primary dies in the middle
    "NOTICE_BATCH": "20",
    "NOTICE_LEASE_SECONDS": "10",
    "NOTICE_HOLD_SECONDS": "3",
    "NOTICE_FANOUT_GRACE_SECONDS": "5",
}


@pytest.fixture
def sentinel_group(tmp_path):
    group = SentinelGroup(tmp_path / "redis")
    yield group
    group.stop()


@pytest.fixture
def through_sentinel(sentinel_group, override_settings):
    """This process's Redis (the web app's, the sweeper's) found through the sentinels."""
    from config import load_settings

    original = tasks.queue._connection
    hosts = tuple((h, int(p)) for h, p in (x.split(":") for x in sentinel_group.hosts.split(",")))
    tasks.queue.init_redis("", socket_timeout=2, sentinel=(hosts, MASTER, ""))
    override_settings(notices=load_settings(OUTBOX).notices)
    yield
    tasks.queue._connection = original


def push(client, settings, openid: str, query_body=None):
    """POST a text push from `openid` (or the given one again); its status and (query, body)."""
    message = pushes.text_xml(openid, "报名", msg_id=str(zlib.crc32(openid.encode())))
    query, body = query_body or pushes.encrypted(settings.mp, message)
    response = client.post("/wechat/mp", query_string=query, data=body, content_type="text/xml")
    return response.status_code, (query, body)


def push_until_accepted(client, settings, openid: str) -> list[int]:
    """WeChat's retries, faster: the same push until it is answered 200 (or 20 s pass)."""
    statuses, sent = [], None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and 200 not in statuses:
        status, sent = push(client, settings, openid, sent)
        statuses.append(status)
        time.sleep(0.2 if status != 200 else 0)
    return statuses


def inbox_senders(port: int) -> list[str]:
    raw = Redis(port=port, socket_timeout=5).lrange(INBOX, 0, -1)
    return [json.loads(item)["message"]["FromUserName"] for item in raw]


@pytest.mark.slow
def test_pushes_follow_a_primary_demoted_alive(client, settings, sentinel_group, through_sentinel):
    status, before = push(client, settings, "o-before")
    assert status == 200  # the web process now holds a connection to the first primary
    sentinel_group.fail_over()
    sentinel_group.wait_for_failover()
    sentinel_group.wait_for_demotion()  # it answers READONLY now; a held connection must move
    statuses = push_until_accepted(client, settings, "o-after")
    assert statuses[-1] == 200 and set(statuses) <= {200, 503}, statuses
    assert inbox_senders(sentinel_group.replica_port) == ["o-before", "o-after"]
    assert push(client, settings, "o-before", before)[0] == 200  # WeChat retries the first
    assert inbox_senders(sentinel_group.replica_port) == ["o-before", "o-after"]  # known there


@pytest.mark.slow
def test_a_failover_mid_notice_loses_nothing_and_sends_nothing_twice(
    organizer, client, wechat, settings, sentinel_group, through_sentinel, tmp_path
):
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    add_recipients(campaign, wechat, settings, RECIPIENTS)
    env = worker_env(settings, "", **OUTBOX)
    env.update(REDIS_SENTINELS=sentinel_group.hosts, REDIS_SENTINEL_MASTER=MASTER)
    env.pop("REDIS_URL")
    workers = WorkerProcesses(env, log_dir=tmp_path)
    workers.start(2)
    stop = threading.Event()

    def sweeper():  # the cron's job, every second; Redis may be away for a moment
        while not stop.is_set():
            time.sleep(1)
            try:
                with db.connection_context():
                    sweep_outbox()
            except Exception:
                pass

    thread = threading.Thread(target=sweeper, daemon=True)
    thread.start()
    try:
        assert client.get("/readyz").status_code == 200
        assert push(client, settings, "o-before-kill")[0] == 200
        notice_id = organizer.post("/api/v1/org/notices", json=notice_body(wxa)).get_json()["id"]
        assert organizer.post(f"/api/v1/org/notices/{notice_id}/send", json={}).status_code == 202
        assert wait_for(lambda: 50 <= len(wechat.state.sends()), timeout=60)
        sentinel_group.kill_primary()
        outage = client.get("/readyz")
        sentinel_group.wait_for_failover()
        recovered = wait_for(lambda: client.get("/readyz").status_code == 200, timeout=30)
        pushed = push_until_accepted(client, settings, "o-after-kill")
        drained = InboundEvent.select().where(InboundEvent.from_user == "o-after-kill")
        taken = wait_for(drained.exists, timeout=30)  # the workers took it from the new primary
        finished = wait_for(lambda: Notice.get_by_id(notice_id).state == "done", timeout=120)
    finally:
        stop.set()
        thread.join(timeout=10)
        workers.stop()

    assert outage.status_code == 503 and "redis" in outage.get_data(as_text=True)
    assert recovered
    assert pushed[-1] == 200 and set(pushed) <= {200, 503}, pushed
    assert taken
    assert finished, f"worker logs in {tmp_path}"
    received = {}
    for send in wechat.state.sends():
        received[send["openid"]] = received.get(send["openid"], 0) + 1
    rows = list(Delivery.select(Delivery, WechatUser).join(WechatUser))
    assert len(rows) == RECIPIENTS
    assert max(received.values()) == 1  # nobody got it twice
    states = {row.state for row in rows}
    assert states <= {"sent", "unknown"}
    assert sum(received.values()) >= sum(1 for row in rows if row.state == "sent")
    assert sum(1 for row in rows if row.state == "unknown") <= 2  # a kill mid-call at most
