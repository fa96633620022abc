"""wechatpy's real client against the sandbox over a real socket: tokens, calls, errors."""

import multiprocessing
from types import SimpleNamespace

import pytest
from wechatpy.exceptions import WeChatClientException

from tasks.queue import redis_connection
from wechat import calls
from wechat.client import CampaignClient, TokenRejected, mp_client, wxa_client


def calls_to(sandbox, path: str) -> list[dict]:
    return [r for r in sandbox.state.requests() if r["path"] == path]


def _fetch_token_in_a_process(app, redis_url, api_base, results):
    from redis import Redis

    client = CampaignClient(app, Redis.from_url(redis_url), api_base)
    results.put(client.tokens.get())


def test_eight_processes_starting_at_once_fetch_one_token(wechat, settings, redis_url):
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [
        context.Process(
            target=_fetch_token_in_a_process,
            args=(settings.wxa, redis_url, settings.wechat_api_base, results),
        )
        for _ in range(8)
    ]
    for process in processes:
        process.start()
    tokens = {results.get(timeout=60) for _ in processes}
    for process in processes:
        process.join(timeout=60)
    assert len(tokens) == 1
    assert len(calls_to(wechat, "/cgi-bin/stable_token")) == 1
    assert calls_to(wechat, "/cgi-bin/token") == []


def test_a_persistent_40001_ends_after_one_retry(wechat, settings):
    wechat.state.add_fault("/cgi-bin/user/info", errcode=40001, times=50)
    with pytest.raises(TokenRejected) as caught:
        calls.user_info(mp_client(), "o-any")
    assert caught.value.errcode == 40001
    assert "AppSecret" in caught.value.errmsg
    assert len(calls_to(wechat, "/cgi-bin/user/info")) == 2


def test_an_expired_token_is_refreshed_once(wechat, settings):
    wechat.state.add_user(settings.mp.appid, "o-follower")
    wechat.state.follow(settings.mp.appid, "o-follower")
    client = mp_client()
    first = client.tokens.get()
    wechat.state.expire_tokens(settings.mp.appid)
    info = calls.user_info(client, "o-follower")
    assert info["subscribe"] == 1
    assert client.tokens.get() != first
    assert len(calls_to(wechat, "/cgi-bin/stable_token")) == 2
    errcodes = [r["errcode"] for r in calls_to(wechat, "/cgi-bin/user/info")]
    assert errcodes == [42001, 0]


def test_a_token_another_worker_already_replaced_is_not_dropped(wechat, settings):
    """Compare-and-expire: invalidating a stale token keeps the fresh one in Redis."""
    client = wxa_client()
    fresh = client.tokens.get()
    assert client.tokens.invalidate("some-older-token") == fresh
    assert redis_connection().get(client.tokens.key).decode() == fresh
    assert len(calls_to(wechat, "/cgi-bin/stable_token")) == 1


def test_tokens_are_never_fetched_per_request(wechat, settings):
    wechat.state.add_user(settings.mp.appid, "o-1")
    for _ in range(5):
        calls.user_info(mp_client(), "o-1")
    assert len(calls_to(wechat, "/cgi-bin/stable_token")) == 1


def test_wrong_secret_is_a_clear_error(wechat, settings, sandbox):
    from dataclasses import replace

    from wechat.tokens import TokenError

    bad = CampaignClient(replace(settings.mp, secret="wrong"), redis_connection(), sandbox.url)
    with pytest.raises(TokenError) as caught:
        bad.tokens.get()
    assert caught.value.errcode == 40125


def test_permanent_qr_and_its_image(wechat, settings):
    answer = calls.create_permanent_qr(mp_client(), "c=abcd2345ef")
    assert answer["ticket"] and answer["url"].startswith("http")
    again = calls.create_permanent_qr(mp_client(), "c=abcd2345ef")
    assert again["ticket"] == answer["ticket"]


def test_mini_program_code_is_an_image_and_errors_are_not(wechat, settings):
    image = calls.wxa_code_unlimited(wxa_client(), "c=abcd2345ef", settings.wxa_page)
    assert image[:3] == b"\xff\xd8\xff"
    with pytest.raises(WeChatClientException) as caught:
        calls.wxa_code_unlimited(wxa_client(), "x" * 33, settings.wxa_page)
    assert caught.value.errcode == 40169
    with pytest.raises(WeChatClientException) as caught:
        calls.wxa_code_unlimited(wxa_client(), "c=ok", "pages/missing/missing")
    assert caught.value.errcode == 41030


def test_subscribe_send_needs_a_grant(wechat, settings):
    appid = settings.wxa.appid
    wechat.state.add_user(appid, "o-sub")
    wechat.state.add_template(appid, "tpl-1", keys={"thing1": "thing", "time2": "time"})
    data = {"thing1": "案例征集即将截止", "time2": "2021-10-31 23:59"}
    with pytest.raises(WeChatClientException) as caught:
        calls.send_subscribe(wxa_client(), "o-sub", "tpl-1", data)
    assert caught.value.errcode == 43101
    wechat.state.answer_popup(appid, "o-sub", {"tpl-1": "accept"})
    assert calls.send_subscribe(wxa_client(), "o-sub", "tpl-1", data)["msgid"]
    with pytest.raises(WeChatClientException) as caught:
        calls.send_subscribe(wxa_client(), "o-sub", "tpl-1", data)
    assert caught.value.errcode == 43101
    assert len(wechat.state.sends()) == 1


def test_subscribe_thing_over_20_characters_is_47003(wechat, settings):
    appid = settings.wxa.appid
    wechat.state.add_user(appid, "o-long")
    wechat.state.add_template(appid, "tpl-2", keys={"thing1": "thing"})
    wechat.state.answer_popup(appid, "o-long", {"tpl-2": "accept"})
    with pytest.raises(WeChatClientException) as caught:
        calls.send_subscribe(wxa_client(), "o-long", "tpl-2", {"thing1": "这" * 21})
    assert caught.value.errcode == 47003


def test_template_message_needs_a_follower(wechat, settings):
    appid = settings.mp.appid
    wechat.state.add_user(appid, "o-t")
    wechat.state.add_template(appid, "tpl-mp", keys={"keyword1": "thing"})
    with pytest.raises(WeChatClientException) as caught:
        calls.send_template(mp_client(), "o-t", "tpl-mp", {"keyword1": "提醒"})
    assert caught.value.errcode == 43004
    wechat.state.follow(appid, "o-t")
    assert calls.send_template(mp_client(), "o-t", "tpl-mp", {"keyword1": "提醒"})["msgid"]


def test_msg_sec_check_v2_verdicts(wechat, settings):
    appid = settings.wxa.appid
    wechat.state.add_user(appid, "o-sec")
    wechat.state.set_sec_words(risky=["赌博"], review=["敏感"])
    assert calls.msg_sec_check(wxa_client(), "o-sec", "党建引领乡村振兴")["suggest"] == "pass"
    assert calls.msg_sec_check(wxa_client(), "o-sec", "一个敏感的话题")["suggest"] == "review"
    assert calls.msg_sec_check(wxa_client(), "o-sec", "网络赌博")["suggest"] == "risky"
    with pytest.raises(ValueError):
        calls.msg_sec_check(wxa_client(), "o-sec", "字" * 2501)


def test_phone_number_codes_are_single_use(wechat, settings):
    appid = settings.wxa.appid
    wechat.state.add_user(appid, "o-p")
    code = wechat.state.phone_code(appid, "o-p", "13800138000")
    assert calls.phone_number(wxa_client(), code)["purePhoneNumber"] == "13800138000"
    with pytest.raises(WeChatClientException) as caught:
        calls.phone_number(wxa_client(), code)
    assert caught.value.errcode == 40029


def test_the_proxy_settings_are_read_once_when_the_client_is_built(monkeypatch, settings):
    """requests would re-read them on every call; they are read at build time instead, and
    a proxy configured for WeChat's hosts is still used (NO_PROXY still exempts a host)."""
    import requests

    from wechat.client import mount_transport

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.cn:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    through_proxy = requests.Session()
    mount_transport(through_proxy, "")
    assert through_proxy.proxies["https"] == "http://proxy.example.cn:3128"
    assert through_proxy.trust_env is False

    monkeypatch.setenv("NO_PROXY", "api.weixin.qq.com")
    exempt = requests.Session()
    mount_transport(exempt, "")
    assert "https" not in exempt.proxies


def test_sends_reach_the_sandbox_with_a_proxy_set_after_the_client_was_built(
    monkeypatch, wechat, settings
):
    wechat.state.add_user(settings.mp.appid, "o-proxied")
    wechat.state.follow(settings.mp.appid, "o-proxied")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    assert calls.user_info(mp_client(), "o-proxied")["subscribe"] == 1


def _redis_gets() -> int:
    return redis_connection().info("commandstats").get("cmdstat_get", {}).get("calls", 0)


def test_a_process_reuses_the_token_it_read_without_asking_redis_each_call(
    wechat, settings, monkeypatch
):
    from wechat import tokens

    monkeypatch.setattr(tokens, "MEMO_SECONDS", 60.0)  # a paused test process stays inside it
    wechat.state.add_user(settings.mp.appid, "o-1")
    client = mp_client()
    calls.user_info(client, "o-1")  # reads (or fetches) the token once
    before = _redis_gets()
    for _ in range(5):
        calls.user_info(client, "o-1")
    assert _redis_gets() - before == 0
    assert len(calls_to(wechat, "/cgi-bin/user/info")) == 6


def test_after_the_memo_a_token_another_process_stored_is_read_again(
    wechat, settings, sandbox, monkeypatch
):
    from wechat import tokens

    clock = [1000.0]  # the memo's own clock, moved by the test: a pause of the test
    monkeypatch.setattr(tokens, "time", SimpleNamespace(monotonic=lambda: clock[0]))  # cannot
    client = wxa_client()
    first = client.tokens.get()
    redis_connection().set(client.tokens.key, "token-from-another-process", ex=600)
    clock[0] += tokens.MEMO_SECONDS * 0.9
    assert client.tokens.get() == first  # within the memo
    clock[0] += tokens.MEMO_SECONDS * 0.2
    assert client.tokens.get() == "token-from-another-process"


def test_a_remembered_token_that_another_process_replaced_costs_one_retry(
    wechat, settings, sandbox, monkeypatch
):
    """Process A remembers T1; WeChat expires it; process B replaces it with T2 in Redis.
    A's next call is refused once, takes T2 from Redis (no second fetch) and succeeds."""
    from wechat import tokens

    monkeypatch.setattr(tokens, "MEMO_SECONDS", 60.0)  # a paused test process stays inside it
    wechat.state.add_user(settings.mp.appid, "o-1")
    remembering = mp_client()
    first = remembering.tokens.get()
    wechat.state.expire_tokens(settings.mp.appid)
    other = CampaignClient(settings.mp, redis_connection(), sandbox.url)
    calls.user_info(other, "o-1")  # refused once, fetches T2 into Redis
    assert calls.user_info(remembering, "o-1")["openid"] == "o-1"
    assert remembering.tokens.get() != first
    assert len(calls_to(wechat, "/cgi-bin/stable_token")) == 2
    errcodes = [r["errcode"] for r in calls_to(wechat, "/cgi-bin/user/info")]
    assert errcodes == [42001, 0, 42001, 0]
