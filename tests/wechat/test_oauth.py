"""Official-account web OAuth: state as CSRF guard and channel carrier, through the sandbox."""

from urllib.parse import parse_qs, urlparse

import requests

from models import Attribution, Channel, Department, WechatUser
from wechat.oauth import BadState, make_state, read_state


def walk_oauth(client, wechat, settings, openid, query=""):
    """Start the flow, let the sandbox play WeChat's consent page, return the final response."""
    start = client.get(f"/wechat/oauth/start{query}")
    assert start.status_code == 302
    consent = requests.get(
        start.headers["Location"].split("#")[0],
        headers={"X-Sandbox-Openid": openid},
        allow_redirects=False,
        timeout=5,
    )
    assert consent.status_code == 302
    back = urlparse(consent.headers["Location"])
    assert back.path == "/wechat/oauth/callback"
    return client.get(f"/wechat/oauth/callback?{back.query}")


def test_oauth_logs_in_and_attributes_the_channel(client, wechat, settings, campaign):
    department = Department.create(
        campaign=campaign, name="福州市委组织部", route="org_dept", invite_code="inv-1"
    )
    channel = Channel.create(
        campaign=campaign, department=department, route="org_dept", code="fz2345abcd"
    )
    done = walk_oauth(client, wechat, settings, "o-h5", "?c=fz2345abcd")
    assert done.status_code == 302
    location = done.headers["Location"]
    assert location == "/h5/home"  # an H5 cookie session, no token in any URL
    assert client.get("/h5/home").status_code == 200
    user = WechatUser.get((WechatUser.app == "mp") & (WechatUser.openid == "o-h5"))
    attribution = Attribution.get(Attribution.user == user)
    assert (attribution.channel_id, attribution.route) == (channel.id, "org_dept")
    assert attribution.department_id == department.id


def test_a_state_from_another_browser_is_refused(client, wechat, settings, app):
    start = client.get("/wechat/oauth/start")
    consent = requests.get(
        start.headers["Location"].split("#")[0],
        headers={"X-Sandbox-Openid": "o-x"},
        allow_redirects=False,
        timeout=5,
    )
    query = urlparse(consent.headers["Location"]).query
    other_browser = app.test_client()  # no nonce cookie
    response = other_browser.get(f"/wechat/oauth/callback?{query}")
    assert response.status_code == 400
    assert "重新进入" in response.get_data(as_text=True)


def test_a_forged_state_is_refused(client, wechat, settings):
    client.get("/wechat/oauth/start")
    response = client.get("/wechat/oauth/callback?code=x&state=abc.1.n.sig")
    assert response.status_code == 400


def test_state_round_trip_and_tampering():
    state, nonce = make_state("k" * 32, "abcd2345ef", now=1000)
    assert len(state) <= 128
    assert read_state("k" * 32, state, nonce, now=1100) == "abcd2345ef"
    for bad in (
        lambda: read_state("k" * 32, state.replace("abcd", "zzzz"), nonce, now=1100),
        lambda: read_state("other-key" * 4, state, nonce, now=1100),
        lambda: read_state("k" * 32, state, "wrong-nonce", now=1100),
        lambda: read_state("k" * 32, state, nonce, now=1000 + 601),
    ):
        try:
            bad()
        except BadState:
            continue
        raise AssertionError("a bad state was accepted")


def test_start_sends_the_browser_to_wechat_with_our_callback(client, settings):
    response = client.get("/wechat/oauth/start?c=abcd2345ef&scope=userinfo")
    target = urlparse(response.headers["Location"])
    query = parse_qs(target.query)
    assert target.path == "/connect/oauth2/authorize"
    assert query["appid"] == [settings.mp.appid]
    assert query["scope"] == ["snsapi_userinfo"]
    assert query["redirect_uri"] == [f"{settings.public_base_url}/wechat/oauth/callback"]
    assert query["state"][0].startswith("abcd2345ef.")
    assert "oauth_nonce=" in response.headers["Set-Cookie"]
