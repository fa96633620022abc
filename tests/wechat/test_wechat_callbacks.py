"""`/wechat/mp` and `/wechat/wxa` through Flask's client, with pushes built by wechatpy."""

import json
import time

import pytest

from campaign.channels.codes import scene_for
from models import Channel, InboundEvent, SubscriptionGrant, Touch, WechatUser, db
from tasks.queue import get_queue, redis_connection
from tasks.touches import BUFFER
from tasks.wechat_events import INBOX
from tests import pushes


@pytest.fixture
def mp(settings):
    return settings.mp


@pytest.fixture
def wxa(settings):
    return settings.wxa


def post(client, kind, query, body, content_type="text/xml"):
    return client.post(f"/wechat/{kind}", query_string=query, data=body, content_type=content_type)


def test_url_verification_echoes_verbatim(client, mp):
    query, _ = pushes.plain(mp, "")
    response = client.get("/wechat/mp", query_string={**query, "echostr": "echo-123_ABC"})
    assert response.status_code == 200
    assert response.data == b"echo-123_ABC"


def test_url_verification_with_a_bad_signature_is_refused(client, mp):
    query, _ = pushes.plain(mp, "")
    query["signature"] = "0" * 40
    response = client.get("/wechat/mp", query_string={**query, "echostr": "x"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "bad_signature"


def test_parametric_qr_subscribe_gets_an_encrypted_welcome(client, mp):
    xml = pushes.event_xml("o-new", "subscribe", EventKey="qrscene_" + scene_for("abcd2345ef"))
    response = post(client, "mp", *pushes.encrypted(mp, xml))
    assert response.status_code == 200
    reply = pushes.open_reply(mp, response.data)
    assert reply["ToUserName"] == "o-new"
    assert reply["MsgType"] == "text"
    assert "oauth/start?c=abcd2345ef" in reply["Content"]
    assert "欢迎参加" in reply["Content"]
    touch = json.loads(redis_connection().lindex(BUFFER, 0))
    assert (touch["kind"], touch["code"], touch["openid"]) == (
        "mp_subscribe",
        "abcd2345ef",
        "o-new",
    )
    push = json.loads(redis_connection().lindex(INBOX, 0))
    assert push["message"]["FromUserName"] == "o-new"
    assert get_queue("default").count == 2  # one drain job for the inbox, one for touches


def test_a_retried_push_has_its_effect_once(client, mp, campaign, run_jobs):
    channel = Channel.create(campaign=campaign, route="org_dept", code="abcd2345ef")
    xml = pushes.event_xml("o-retry", "SCAN", EventKey=scene_for(channel.code), Ticket="t")
    query, body = pushes.encrypted(mp, xml)
    replies = [post(client, "mp", query, body) for _ in range(3)]
    assert all(r.status_code == 200 for r in replies)
    contents = [pushes.open_reply(mp, r.data)["Content"] for r in replies]
    assert contents[0] == contents[1] == contents[2]
    run_jobs()
    assert InboundEvent.select().count() == 1
    assert Touch.select().count() == 1
    touch = Touch.get()
    assert touch.channel_id == channel.id and touch.kind == "mp_scan"
    assert WechatUser.get(WechatUser.openid == "o-retry").follower


def test_redis_emptied_between_retries_still_applies_once(client, mp, campaign, run_jobs):
    xml = pushes.event_xml("o-flush", "subscribe")
    query, body = pushes.encrypted(mp, xml)
    post(client, "mp", query, body)
    run_jobs()
    redis_connection().flushdb()
    post(client, "mp", query, body)
    run_jobs()
    assert InboundEvent.select().count() == 1


def test_keywords_get_helpful_replies(client, mp):
    for keyword, expected in [
        ("报名", "oauth/start"),
        ("进度", "data-miniprogram-path"),
        ("你好", "/h5/"),
    ]:
        xml = pushes.text_xml("o-kw", keyword, msg_id=str(hash(keyword) & 0xFFFFFF))
        reply = pushes.open_reply(mp, post(client, "mp", *pushes.encrypted(mp, xml)).data)
        assert expected in reply["Content"], keyword


def test_mini_program_json_popup_records_grants(client, wxa, run_jobs):
    event = {
        "ToUserName": "gh_wxa",
        "FromUserName": "o-wxa",
        "CreateTime": int(time.time()),
        "MsgType": "event",
        "Event": "subscribe_msg_popup_event",
        "List": [
            {"TemplateId": "tpl-deadline", "SubscribeStatusString": "accept", "PopupScene": "0"},
            {"TemplateId": "tpl-other", "SubscribeStatusString": "reject", "PopupScene": "0"},
        ],
    }
    query, body = pushes.encrypted(wxa, json.dumps(event), fmt="json")
    response = post(client, "wxa", query, body, content_type="application/json")
    assert response.status_code == 200
    assert response.data == b"success"
    run_jobs()
    grants = {g.template_id: g.remaining for g in SubscriptionGrant.select()}
    assert grants == {"tpl-deadline": 1, "tpl-other": 0}


def test_mini_program_xml_popup_with_one_item(client, wxa, run_jobs):
    xml = (
        "<xml><ToUserName>gh_wxa</ToUserName><FromUserName>o-x</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType>event</MsgType>"
        "<Event>subscribe_msg_popup_event</Event><SubscribeMsgPopupEvent><List>"
        "<TemplateId>tpl-a</TemplateId><SubscribeStatusString>accept</SubscribeStatusString>"
        "<PopupScene>0</PopupScene></List></SubscribeMsgPopupEvent></xml>"
    )
    post(client, "wxa", *pushes.encrypted(wxa, xml))
    run_jobs()
    assert SubscriptionGrant.get().remaining == 1


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    "<xml><MsgType>&lol2;</MsgType></xml>"
)
XXE = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml>&e;</xml>'


def hostile_pushes(app):
    good_xml = pushes.event_xml("o-h", "subscribe")
    query, body = pushes.encrypted(app, good_xml)
    stale_query, stale_body = pushes.encrypted(app, good_xml, timestamp=int(time.time()) - 301)
    future_query, future_body = pushes.encrypted(app, good_xml, timestamp=int(time.time()) + 400)
    yield "bad signature", {**query, "signature": "f" * 40}, body, 403
    yield "bad msg_signature", {**query, "msg_signature": "0" * 40}, body, 403
    yield "signature over another body", query, pushes.encrypted(app, good_xml, nonce="x")[1], 403
    yield "stale timestamp", stale_query, stale_body, 403
    yield "future timestamp", future_query, future_body, 403
    yield "non-numeric timestamp", {**query, "timestamp": "12a"}, body, 400
    yield "no query at all", {}, body, 400
    yield "malformed XML", *pushes.plain(app, "<xml><MsgType>text</xml"), 400
    yield "billion laughs", *pushes.plain(app, BILLION_LAUGHS), 400
    yield "XXE", *pushes.plain(app, XXE), 400
    yield "encrypted entity bomb", *pushes.encrypted(app, BILLION_LAUGHS), 400
    yield "bad base64", *_with_encrypt(app, "!!!notbase64!!!"), 400
    yield "JSON array", *pushes.plain(app, "[1,2,3]"), 400
    yield "not UTF-8", query, b"\xff\xfe<xml/>", 400
    yield "2 MB body", query, b"<xml>" + b"a" * (2 * 1024 * 1024) + b"</xml>", 413


def _with_encrypt(app, ciphertext: str):
    ts = str(int(time.time()))
    query = {
        "signature": pushes.sha1_sorted(app.token, ts, "n"),
        "timestamp": ts,
        "nonce": "n",
        "encrypt_type": "aes",
        "msg_signature": pushes.sha1_sorted(app.token, ts, "n", ciphertext),
    }
    return query, f"<xml><Encrypt><![CDATA[{ciphertext}]]></Encrypt></xml>".encode()


@pytest.mark.parametrize("kind", ["mp", "wxa"])
def test_hostile_pushes_get_4xx_and_no_effect(client, settings, kind):
    app = getattr(settings, kind)
    seen = []
    for name, query, body, status in hostile_pushes(app):
        response = post(client, kind, query, body)
        seen.append((name, response.status_code))
        assert response.status_code == status, name
        assert response.is_json, name
    assert redis_connection().dbsize() == 0, "a hostile push left a trace in Redis"
    assert len(seen) == 15


def test_plaintext_is_refused_when_not_allowed(mp):
    from wechat.callbacks import CallbackRejected, open_push

    query, body = pushes.plain(mp, pushes.event_xml("o", "subscribe"))
    assert open_push(mp, query, body).message["Event"] == "subscribe"
    with pytest.raises(CallbackRejected) as caught:
        open_push(mp, query, body, allow_plaintext=False)
    assert caught.value.code == "plaintext_refused"


def test_answer_comes_fast_even_when_the_database_is_slow(client, mp, monkeypatch):
    real = db.obj.execute_sql

    def slow(*args, **kwargs):
        time.sleep(6)
        return real(*args, **kwargs)

    monkeypatch.setattr(db.obj, "execute_sql", slow)
    xml = pushes.event_xml("o-slow", "subscribe", EventKey="qrscene_c=abcd2345ef")
    started = time.perf_counter()
    response = post(client, "mp", *pushes.encrypted(mp, xml))
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert elapsed < 1.0, f"callback took {elapsed:.2f}s with a slow database"


def _mutations(rng, query: dict, body: bytes):
    """One hostile variant of a valid push; each breaks something the signatures cover (the
    unsigned `openid` parameter and `ToUserName` are left alone: changing them is harmless)."""
    choice = rng.randrange(7)
    q = dict(query)
    if choice == 0:
        key = rng.choice(["signature", "msg_signature"])
        position = rng.randrange(len(q[key]))
        q[key] = q[key][:position] + rng.choice("0123456789abcdef") * 1 + q[key][position + 1 :]
        if q[key] == query[key]:
            q[key] = q[key][::-1]
        return q, body
    if choice == 1:
        q["timestamp"] = str(int(q["timestamp"]) + rng.choice([-1, 1, 7, -400, 10**6]))
        return q, body
    if choice == 2:
        q["nonce"] = q["nonce"] + rng.choice("xyz")
        return q, body
    if choice == 3:
        start = body.index(b"<Encrypt><![CDATA[") + 18 + rng.randrange(40)
        flipped = bytes([body[start] ^ rng.choice([1, 2, 4])])
        return q, body[:start] + flipped + body[start + 1 :]
    if choice == 4:
        return q, body[: rng.randrange(len(body))]
    if choice == 5:
        return q, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
    signed = ["signature", "timestamp", "nonce", "msg_signature", "encrypt_type"]
    dropped = set(rng.sample(signed, rng.randrange(1, len(signed) + 1)))
    return {k: v for k, v in q.items() if k not in dropped}, body


def test_five_thousand_hostile_variants_never_pass(client, settings):
    """T1: mutated pushes (signatures, timestamps, nonces, ciphertext, truncation, noise,
    missing parameters) — no 5xx, none accepted, no side effect."""
    import random

    rng = random.Random(5000)
    mp = settings.mp
    base = [pushes.encrypted(mp, pushes.event_xml(f"o-{n}", "subscribe")) for n in range(20)]
    statuses = {}
    for _ in range(5000):
        query, body = _mutations(rng, *rng.choice(base))
        response = post(client, "mp", query, body)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    assert all(400 <= status < 500 for status in statuses), statuses
    assert redis_connection().dbsize() == 0
