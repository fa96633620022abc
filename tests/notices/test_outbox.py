"""The outbox under WeChat's failure modes, against the sandbox's real HTTP: transient errors
are retried, final ones recorded, 45009 pauses, an ambiguous send is `unknown` and never sent
again by itself, lost jobs and an emptied Redis are recovered by the sweeper from the
database alone, and a job run twice (or by two workers at once) sends nothing twice."""

import dataclasses
import datetime
import threading

from campaign.notices import operations as rules
from campaign.notices import outbox
from models import Delivery, Notice, SubscriptionGrant, WechatUser, utcnow
from tasks.notices import fan_out, send_batch, sweep_outbox
from tasks.queue import get_queue, redis_connection
from tests.notice_helpers import (
    WXA_TEMPLATE,
    add_recipients,
    add_templates,
    notice_body,
    sends_by_openid,
    wait_for,
)
from wechat import client as wechat_clients

pytest_plugins = ("tests.notice_fixtures",)  # organizer, fast_outbox

SUBSCRIBE_SEND = "/cgi-bin/message/subscribe/send"
TEMPLATE_SEND = "/cgi-bin/message/template/send"


def start_notice(organizer, template, **extra) -> int:
    notice_id = organizer.post("/api/v1/org/notices", json=notice_body(template, **extra))
    notice_id = notice_id.get_json()["id"]
    assert organizer.post(f"/api/v1/org/notices/{notice_id}/send", json={}).status_code == 202
    return notice_id


def rows() -> dict[int, Delivery]:
    return {row.user_id: row for row in Delivery.select()}


def test_transient_errors_are_retried_and_sent_once(
    organizer, wechat, settings, run_jobs, fast_outbox
):
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    users = add_recipients(campaign, wechat, settings, 6)
    wechat.state.add_fault(SUBSCRIBE_SEND, errcode=-1, times=3)
    wechat.state.add_fault(SUBSCRIBE_SEND, errcode=45011, times=2)
    notice_id = start_notice(organizer, wxa)
    run_jobs()
    assert Notice.get_by_id(notice_id).state == "done"
    assert sends_by_openid(wechat) == {user.openid: 1 for user in users}
    attempts = sorted(row.attempts for row in rows().values())
    assert sum(attempts) == 6 + 5 and all(row.state == "sent" for row in rows().values())


def test_final_errors_are_recorded_by_reason_and_never_retried(
    organizer, wechat, settings, run_jobs, fast_outbox
):
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    add_recipients(campaign, wechat, settings, 4)
    wechat.state.add_fault(SUBSCRIBE_SEND, errcode=40037, times=1)
    wechat.state.add_fault(SUBSCRIBE_SEND, errcode=47003, times=1)
    notice_id = start_notice(organizer, wxa)
    run_jobs()
    progress = outbox.progress(notice_id)
    assert progress["failed_by_reason"] == {"invalid_template": 1, "invalid_data": 1}
    assert (progress["sent"], progress["remaining"]) == (2, 0)
    assert {row.errcode for row in rows().values() if row.state == "failed"} == {40037, 47003}
    assert all(row.attempts == 1 for row in rows().values())
    assert len(wechat.state.sends()) == 2


def test_wechat_refusals_are_final_and_43101_zeroes_the_grant(
    organizer, wechat, settings, run_jobs, fast_outbox
):
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    (stranger,) = add_recipients(campaign, wechat, settings, 1, known=False, prefix="o-x")
    (drifted,) = add_recipients(campaign, wechat, settings, 1, prefix="o-d")
    wechat.state.refuse_subscription(settings.wxa.appid, drifted.openid, WXA_TEMPLATE)
    SubscriptionGrant.update(remaining=3).where(SubscriptionGrant.user == drifted.id).execute()
    start_notice(organizer, wxa)
    run_jobs()
    outcome = {row.user_id: (row.state, row.reason, row.errcode) for row in rows().values()}
    assert outcome == {
        stranger.id: ("failed", "invalid_openid", 40003),
        drifted.id: ("failed", "user_refused", 43101),
    }
    assert SubscriptionGrant.get(SubscriptionGrant.user == drifted.id).remaining == 0
    assert not wechat.state.sends()


def test_one_grant_is_spent_per_one_time_send_and_never_without_one(
    organizer, wechat, settings, run_jobs, fast_outbox
):
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    (user,) = add_recipients(campaign, wechat, settings, 1)
    first = start_notice(organizer, wxa)
    run_jobs()
    second = start_notice(organizer, wxa)
    run_jobs()
    assert Delivery.get(Delivery.notice == first).state == "sent"
    second_row = Delivery.get(Delivery.notice == second)
    assert (second_row.state, second_row.reason) == ("no_consent", "no_grant")
    assert SubscriptionGrant.get(SubscriptionGrant.user == user).remaining == 0
    assert len(wechat.state.sends()) == 1


def test_daily_quota_pauses_the_notice_and_resume_finishes_it(
    organizer, wechat, settings, run_jobs, fast_outbox
):
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    users = add_recipients(campaign, wechat, settings, 8)
    wechat.state.add_fault(SUBSCRIBE_SEND, errcode=45009, times=1)
    notice_id = start_notice(organizer, wxa)
    run_jobs()
    notice = organizer.get(f"/api/v1/org/notices/{notice_id}").get_json()
    assert (notice["state"], notice["state_reason"]) == ("paused", "daily_quota")
    assert notice["progress"]["remaining"] >= 1
    sweep_outbox()
    run_jobs()
    assert Notice.get_by_id(notice_id).state == "paused"  # the sweeper never resumes it
    organizer.post(f"/api/v1/org/notices/{notice_id}/resume")
    run_jobs()
    assert Notice.get_by_id(notice_id).state == "done"
    assert sends_by_openid(wechat) == {user.openid: 1 for user in users}


def test_an_ambiguous_send_is_unknown_and_only_an_organizer_sends_it_again(
    organizer, wechat, settings, run_jobs, fast_outbox
):
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    users = add_recipients(campaign, wechat, settings, 3)
    wechat.state.add_fault(SUBSCRIBE_SEND, mode="drop_after", times=1)
    notice_id = start_notice(organizer, wxa)
    run_jobs()
    (lost,) = [row for row in rows().values() if row.state == "unknown"]
    assert lost.reason == "connection_lost"
    assert Notice.get_by_id(notice_id).state == "done"
    sweep_outbox()
    run_jobs()
    assert sends_by_openid(wechat) == {user.openid: 1 for user in users}  # WeChat got it once
    response = organizer.post(f"/api/v1/org/notices/{notice_id}/resend-unknown")
    assert response.get_json()["requeued"] == 1
    run_jobs()
    again = Delivery.get_by_id(lost.id)
    # The first try did arrive and used the one-time credit: WeChat now says 43101.
    assert (again.state, again.errcode, again.attempts) == ("failed", 43101, 2)
    assert sends_by_openid(wechat) == {user.openid: 1 for user in users}
    assert Notice.get_by_id(notice_id).state == "done"


def test_a_connection_refused_before_sending_is_retried(
    organizer, wechat, settings, run_jobs, fast_outbox, monkeypatch
):
    monkeypatch.setattr(outbox, "RETRY_BASE", 60.0)  # the retry waits: time passes below
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    (user,) = add_recipients(campaign, wechat, settings, 1)
    real = wechat_clients.wxa_client()
    real.tokens.get()  # cached in Redis, shared with the client below
    nowhere = wechat_clients.CampaignClient(settings.wxa, redis_connection(), "http://127.0.0.1:9")
    monkeypatch.setitem(wechat_clients._clients, "wxa", nowhere)
    notice_id = start_notice(organizer, wxa)
    run_jobs()
    row = Delivery.get(Delivery.notice == notice_id)
    assert (row.state, row.reason, row.attempts) == ("pending", "connect_failed", 1)
    monkeypatch.setitem(wechat_clients._clients, "wxa", real)
    past = utcnow() - datetime.timedelta(seconds=1)
    Delivery.update(not_before=past, lease_until=past).execute()
    sweep_outbox()
    run_jobs()
    row = Delivery.get(Delivery.notice == notice_id)
    assert (row.state, row.attempts) == ("sent", 2)
    assert sends_by_openid(wechat) == {user.openid: 1}


def test_a_silent_worker_leaves_unknown_rows_the_sweeper_finds(organizer, wechat, settings):
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    (user,) = add_recipients(campaign, wechat, settings, 1)
    notice = rules.create_notice(campaign, notice_body(wxa), "test")
    Notice.update(state="sending").where(Notice.id == notice.id).execute()
    past = utcnow() - datetime.timedelta(seconds=1)
    Delivery.create(notice=notice, user=user, state="sending", attempts=1, lease_until=past)
    assert sweep_outbox()["unknown"] == 1
    row = Delivery.get()
    assert (row.state, row.reason) == ("unknown", "lease_expired")
    assert Notice.get_by_id(notice.id).state == "done"


def test_an_emptied_redis_delays_but_loses_nothing(
    organizer, wechat, settings, run_jobs, fast_outbox
):
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    users = add_recipients(campaign, wechat, settings, 250)
    notice_id = start_notice(organizer, wxa)
    fan_out(notice_id)  # rows written, the send chains enqueued...
    redis_connection().flushdb()  # ...and lost
    assert run_jobs() == 0
    assert sweep_outbox()["chains"] == 0  # the chains' reservations still hold
    Delivery.update(lease_until=utcnow() - datetime.timedelta(seconds=1)).execute()
    assert sweep_outbox()["chains"] == fast_outbox.senders
    run_jobs()
    assert Notice.get_by_id(notice_id).state == "done"
    assert sends_by_openid(wechat) == {user.openid: 1 for user in users}


def test_a_lost_fan_out_is_started_again(organizer, wechat, settings, run_jobs, fast_outbox):
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    users = add_recipients(campaign, wechat, settings, 5)
    start_notice(organizer, wxa)
    redis_connection().flushdb()
    assert sweep_outbox()["fanouts"] == 0  # still within its grace
    Notice.update(send_at=utcnow() - datetime.timedelta(hours=1)).execute()
    assert sweep_outbox()["fanouts"] == 1
    run_jobs()
    assert sends_by_openid(wechat) == {user.openid: 1 for user in users}


def test_a_job_run_twice_or_by_two_workers_at_once_sends_once(
    organizer, wechat, settings, fast_outbox
):
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    users = add_recipients(campaign, wechat, settings, 40)
    notice_id = start_notice(organizer, wxa)
    fan_out(notice_id)
    ids = [row.id for row in Delivery.select(Delivery.id)]
    workers = [threading.Thread(target=send_batch, args=(notice_id, 0, 1, ids)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    send_batch(notice_id, 0, 1, ids)  # and RQ runs the same job once more
    assert sends_by_openid(wechat) == {user.openid: 1 for user in users}
    assert {row.attempts for row in Delivery.select()} == {1}


def test_a_claim_is_exclusive(organizer, wechat, settings):
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    (user,) = add_recipients(campaign, wechat, settings, 1)
    notice = rules.create_notice(campaign, notice_body(wxa), "test")
    Notice.update(state="sending").where(Notice.id == notice.id).execute()
    row = Delivery.create(notice=notice, user=user)
    (candidate,) = outbox.candidates([row.id])
    assert outbox.claim(notice.id, candidate, lease=30)
    assert not outbox.claim(notice.id, candidate, lease=30)
    assert Delivery.get_by_id(row.id).attempts == 1


def test_a_chain_reserves_from_its_last_batch_on_then_comes_back_for_retries(
    organizer, wechat, settings
):
    """Rows before `start` wait for the end of the pass; then the slot is read from its
    beginning again, so a retry that came due is never left behind."""
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    users = add_recipients(campaign, wechat, settings, 6)
    notice = rules.create_notice(campaign, notice_body(wxa), "test")
    Notice.update(state="sending").where(Notice.id == notice.id).execute()
    ids = [Delivery.create(notice=notice, user=user).id for user in users]
    assert outbox.reserve(notice.id, 0, 1, 10, 60, start=ids[3]) == ids[3:]
    Delivery.update(state="sent").where(Delivery.id.in_(ids[3:])).execute()
    assert outbox.reserve(notice.id, 0, 1, 10, 60, start=ids[3]) == ids[:3]
    assert outbox.reserve(notice.id, 0, 1, 2, 60, start=ids[1]) == ids[1:3]


def test_a_batch_cut_short_is_carried_on_by_the_next_job(
    organizer, wechat, settings, fast_outbox, override_settings
):
    """The job's time is up before it reaches its rows: the next job of the chain gets the
    same rows, not the ones after them."""
    override_settings(notices=dataclasses.replace(fast_outbox, job_seconds=0, senders=1))
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    add_recipients(campaign, wechat, settings, 5)
    notice_id = start_notice(organizer, wxa)
    fan_out(notice_id)
    ids = sorted(row.id for row in Delivery.select(Delivery.id))
    redis_connection().flushdb()  # the chain fan_out enqueued: this test runs it by hand
    send_batch(notice_id, 0, 1, ids)
    (queued,) = [job for job in get_queue("notices").jobs if job.func_name.endswith("send_batch")]
    assert queued.args[3] == ids
    assert wechat.state.sends() == []


def test_a_template_message_whose_answer_was_lost_is_settled_by_its_event(
    organizer, wechat, settings, run_jobs, fast_outbox
):
    campaign = organizer.account.campaign
    _, mp = add_templates(campaign, wechat, settings)
    follower = WechatUser.create(app="mp", openid="o-mp-1", follower=True)
    wechat.state.add_user(settings.mp.appid, follower.openid, follower=True)
    wechat.state.add_fault(TEMPLATE_SEND, mode="drop_after", times=1)
    body = notice_body(mp, audience={"users": [follower.id]}, values={})
    start_notice(organizer, mp, **{k: v for k, v in body.items() if k != "template"})
    run_jobs()
    assert Delivery.get().state == "unknown"
    (send,) = wechat.state.sends()
    assert wait_for(lambda: _finished_pushes(wechat) == 1, timeout=30)
    run_jobs()  # drains the inbox: TEMPLATESENDJOBFINISH carries the MsgID we never got
    row = Delivery.get()
    assert (row.state, row.msgid, row.channel) == ("sent", str(send["msgid"]), "mp_template")


def _finished_pushes(wechat) -> int:
    return sum(
        1
        for push in wechat.state.pushes()
        if push.event.get("Event") == "TEMPLATESENDJOBFINISH" and push.outcome == "accepted"
    )


def test_a_subscribe_send_result_event_settles_an_unknown_row(
    organizer, wechat, settings, run_jobs, fast_outbox
):
    campaign = organizer.account.campaign
    wxa, _ = add_templates(campaign, wechat, settings)
    (user,) = add_recipients(campaign, wechat, settings, 1)
    wechat.state.add_fault(SUBSCRIBE_SEND, mode="drop_after", times=1)
    start_notice(organizer, wxa)
    run_jobs()
    assert Delivery.get().state == "unknown"
    (send,) = wechat.state.sends()
    event = {
        "ToUserName": "gh_wxa",
        "FromUserName": user.openid,
        "CreateTime": int(utcnow().timestamp()),
        "MsgType": "event",
        "Event": "subscribe_msg_sent_event",
        "List": [
            {
                "TemplateId": WXA_TEMPLATE,
                "MsgID": str(send["msgid"]),
                "ErrorCode": "0",
                "ErrorStatus": "success",
            }
        ],
    }
    record = wechat.actions.push(settings.wxa.appid, event, wait=True)
    assert record.outcome == "accepted"
    run_jobs()
    row = Delivery.get()
    assert (row.state, row.msgid) == ("sent", str(send["msgid"]))
