"""Signing in on H5: OAuth ends in a cookie session (CSRF, expiry), first touch attributes."""

from urllib.parse import urlparse

import requests

from models import Attribution, AuthSession, Channel, Department, WechatUser
from tests.channel_fixtures import BROWSER_UA, decode_qr


def test_oauth_ends_in_a_cookie_session_and_attributes_the_channel(phone, open_window):
    department = Department.create(
        campaign=open_window, name="福州市委组织部", route="org_dept", invite_code="inv-1"
    )
    channel = Channel.create(
        campaign=open_window, department=department, route="org_dept", code="fz2345abcd"
    )
    home = phone.sign_in("o-h5", code="fz2345abcd")
    assert "登记单位信息" in home.get_data(as_text=True)
    user = WechatUser.get((WechatUser.app == "mp") & (WechatUser.openid == "o-h5"))
    attribution = Attribution.get(Attribution.user == user)
    assert (attribution.channel_id, attribution.department_id) == (channel.id, department.id)
    session = AuthSession.get(AuthSession.user == user)
    assert session.account_id is None and session.revoked_at is None
    cookie = phone.client.get_cookie("h5_session", path="/h5")
    assert cookie is not None and cookie.http_only


def test_no_session_sends_pages_back_to_sign_in(client, open_window):
    for path in ("/h5/home", "/h5/unit", "/h5/entries", "/h5/progress", "/h5/notices"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/h5/?signin=1"


def test_a_post_without_the_csrf_token_is_refused(phone):
    phone.sign_in("o-csrf")
    refused = phone.post("/h5/unit", {"name": "某党支部"}, csrf=False)
    assert refused.status_code == 403
    forged = phone.post("/h5/unit", {"name": "某党支部", "csrf_token": "0" * 64}, csrf=False)
    assert forged.status_code == 403


def test_logout_revokes_the_session(phone):
    phone.sign_in("o-out")
    assert phone.post("/h5/logout").status_code == 303
    assert phone.get("/h5/home").status_code == 302
    assert AuthSession.select().where(AuthSession.revoked_at.is_null()).count() == 0


def test_idle_expiry_ends_the_session(phone):
    from tasks.queue import redis_connection

    phone.sign_in("o-idle")
    redis = redis_connection()
    for key in redis.scan_iter("websession:idle:*"):
        redis.delete(key)  # thirty idle minutes, as Redis sees them
    assert phone.get("/h5/home").status_code == 302


def test_outside_wechat_the_page_explains_and_shows_its_qr(client, open_window):
    page = client.get("/h5/?c=fz2345abcd", headers={"User-Agent": BROWSER_UA})
    html = page.get_data(as_text=True)
    assert "请在微信中打开" in html and 'src="/h5/qr.png?c=fz2345abcd"' in html
    assert "/wechat/oauth/start" not in html
    qr = client.get("/h5/qr.png?c=fz2345abcd")
    assert qr.status_code == 200 and qr.mimetype == "image/png"
    [text] = decode_qr(qr.data)
    assert text.endswith("/h5/?c=fz2345abcd")


def test_the_progress_link_in_wechat_signs_in_and_comes_back(phone):
    """The 进度 keyword's link: in WeChat, OAuth at once, then /h5/progress itself."""
    first = phone.client.get("/h5/progress")
    assert first.status_code == 302
    assert first.headers["Location"] == "/wechat/oauth/start?next=/h5/progress"
    start = phone.client.get(first.headers["Location"])
    consent = requests.get(
        start.headers["Location"], headers={"X-Sandbox-Openid": "o-kw"}, allow_redirects=False,
        timeout=5,
    )  # fmt: skip
    back = urlparse(consent.headers["Location"])
    done = phone.client.get(f"/wechat/oauth/callback?{back.query}")
    assert done.headers["Location"] == "/h5/progress"
    assert "我的提交进度" in phone.get("/h5/progress").get_data(as_text=True)


def test_next_is_only_ever_an_h5_page(phone):
    for bad in ("//evil.example/h5/x", "https://evil.example/", "/h5/../console", "/console/"):
        start = phone.client.get(f"/wechat/oauth/start?next={bad}")
        assert start.status_code == 302
        assert phone.client.get_cookie("oauth_next", path="/wechat/oauth") is None, bad


def test_the_page_script_is_told_when_the_session_has_expired(phone):
    from tasks.queue import redis_connection

    phone.sign_in("o-expired")
    redis = redis_connection()
    for key in redis.scan_iter("websession:idle:*"):
        redis.delete(key)
    answer = phone.client.get("/h5/progress", headers={"Accept": "application/json"})
    assert answer.status_code == 401
    assert answer.get_json()["error"]["message"] == "登录已过期，请重新登录"
