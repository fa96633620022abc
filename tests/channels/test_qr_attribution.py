"""A scan of each kind of code brings a new user whose entry belongs to the right department.

Each code is read back from the image the job stored (as a phone would read it), then
followed the way WeChat would: the plain link through `/q/` and the official-account OAuth
(or the mini-program's `options.q`), the mini-program code's scene through
`POST /api/v1/touches`, the official-account QR through a sandbox scan pushed to our
callback. A second department's code scanned later never takes the user over.
"""

from urllib.parse import urlparse

import pytest
import requests

from campaign.sessions import issue_token
from models import ChannelAsset, Entry, WechatUser
from pages.scan_buffer import flush_scans
from tests.channel_fixtures import WECHAT_UA, decode_qr
from tests.factories import UNIT, Organizer


@pytest.fixture
def org(client, open_window):
    return Organizer(client, open_window)


@pytest.fixture
def two_departments(org, run_jobs, wechat):
    first = org.department("中共福州市委组织部", route="org_dept", region="福州市")
    second = org.department("福建省国资委", route="industry_dept", region="省直单位")
    run_jobs()  # the jobs draw and fetch every code
    return first, second


def code_image(org, department: dict, kind: str) -> bytes:
    channel = department["channels"][0]
    response = org.get(f"/api/v1/org/channels/{channel['id']}/codes/{kind}")
    assert response.status_code == 200, response.get_json()
    return response.data


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def login_in_mini_program(client, wechat, settings, openid: str) -> dict:
    code = wechat.state.login_code(settings.wxa.appid, openid)
    return bearer(client.post("/api/v1/auth/wxa-login", json={"code": code}).get_json()["token"])


def login_in_h5(client, wechat, openid: str, start: str) -> dict:
    """Follow `/wechat/oauth/start…` through the sandbox's consent page to an H5 session;
    the API calls that follow use a token of the same WeChat user."""
    begin = client.get(start)
    consent = requests.get(
        begin.headers["Location"], headers={"X-Sandbox-Openid": openid}, timeout=5,
        allow_redirects=False,
    )  # fmt: skip
    done = client.get(f"/wechat/oauth/callback?{urlparse(consent.headers['Location']).query}")
    assert done.headers["Location"] == "/h5/home"
    user = WechatUser.get((WechatUser.app == "mp") & (WechatUser.openid == openid))
    return bearer(issue_token(user)[0])


def new_entry(client, headers: dict) -> dict:
    assert client.put("/api/v1/me/unit", json=UNIT, headers=headers).status_code in (200, 201)
    response = client.post("/api/v1/entries", json={"title": "近邻党建"}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def scan_link(client, wechat, url: str, openid: str) -> dict:
    """The plain QR scanned with WeChat's scanner: `/q/` → OAuth → our token."""
    landing = client.get(urlparse(url).path, headers={"User-Agent": WECHAT_UA})
    assert landing.status_code == 302
    flush_scans()
    return login_in_h5(client, wechat, openid, landing.headers["Location"])


def scan_wxa_code(client, wechat, settings, image: bytes, openid: str) -> dict:
    """The mini-program code: the page gets the scene and reports it."""
    [content] = decode_qr(image)
    scene = content.split("?scene=", 1)[1]
    headers = login_in_mini_program(client, wechat, settings, openid)
    assert client.post("/api/v1/touches", json={"scene": scene}, headers=headers).status_code == 200
    return headers


def scan_mp_qr(client, wechat, settings, department: dict, openid: str, run_jobs) -> None:
    """The official-account QR: WeChat pushes subscribe/SCAN with the scene to our callback."""
    [url] = decode_qr(code_image(client.org, department, "mp"))
    asset = ChannelAsset.get((ChannelAsset.kind == "mp") & (ChannelAsset.url == url))
    record = wechat.actions.scan(settings.mp.appid, openid, ticket=asset.ticket, wait=True)
    assert record.outcome == "accepted"
    run_jobs()


def assert_attributed(entry: dict, department: dict) -> None:
    assert entry["route"] == department["route"]
    row = Entry.get_by_id(entry["id"])
    assert row.department_id == department["id"]
    assert row.channel_id == department["channels"][0]["id"]


def test_the_poster_link_through_wechat_oauth(client, org, two_departments, wechat, run_jobs):
    first, second = two_departments
    [url] = decode_qr(code_image(org, first, "poster_png"))
    assert url == first["channels"][0]["link"]
    headers = scan_link(client, wechat, url, "o-link")
    entry = new_entry(client, headers)
    assert_attributed(entry, first)
    [later] = decode_qr(code_image(org, second, "poster_png"))
    scan_link(client, wechat, later, "o-link")
    run_jobs()
    assert_attributed(new_entry(client, headers), first)
    assert_attributed(
        client.get(f"/api/v1/entries/{entry['id']}", headers=headers).get_json(), first
    )


def test_the_poster_link_inside_the_mini_program(
    client, org, two_departments, wechat, settings, run_jobs
):
    first, second = two_departments
    [url] = decode_qr(code_image(org, second, "link_png"))
    headers = login_in_mini_program(client, wechat, settings, "o-q")
    reply = client.post("/api/v1/touches", json={"q": url}, headers=headers).get_json()
    assert reply["route"] == "industry_dept" and reply["department"] == "福建省国资委"
    entry = new_entry(client, headers)
    assert_attributed(entry, second)
    [other] = decode_qr(code_image(org, first, "link_png"))
    client.post("/api/v1/touches", json={"q": other}, headers=headers)
    run_jobs()
    assert_attributed(new_entry(client, headers), second)


def test_the_mini_program_code(client, org, two_departments, wechat, settings, run_jobs):
    first, second = two_departments
    headers = scan_wxa_code(client, wechat, settings, code_image(org, first, "wxa"), "o-wxa")
    entry = new_entry(client, headers)
    assert_attributed(entry, first)
    scan_wxa_code(client, wechat, settings, code_image(org, second, "wxa"), "o-wxa")
    run_jobs()
    assert_attributed(new_entry(client, headers), first)


def test_the_official_account_qr(client, org, two_departments, wechat, settings, run_jobs):
    first, second = two_departments
    client.org = org
    scan_mp_qr(client, wechat, settings, second, "o-mp", run_jobs)
    user = WechatUser.get((WechatUser.app == "mp") & (WechatUser.openid == "o-mp"))
    assert user.follower
    headers = login_in_h5(client, wechat, "o-mp", "/wechat/oauth/start")  # the welcome link
    entry = new_entry(client, headers)
    assert_attributed(entry, second)
    scan_mp_qr(client, wechat, settings, first, "o-mp", run_jobs)  # a follower: SCAN
    assert_attributed(new_entry(client, headers), second)
