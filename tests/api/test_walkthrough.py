"""One unit contact, from WeChat login to a submitted, content-checked, endorsed entry.

Everything goes through the HTTP API, the WeChat sandbox over real sockets, and RQ jobs;
docs/walkthrough.md tells the same story for mini-program developers.
"""

import io

from PIL import Image

from models import Attachment, Channel, Department, Entry
from tests.factories import COMPLETE, UNIT


def jpeg(color: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), color).save(out, "JPEG")
    return out.getvalue()


def test_from_login_to_endorsement(
    client, wechat, settings, open_window, run_jobs, live_server, override_settings
):
    override_settings(media_base_url=live_server)
    appid = settings.wxa.appid
    department = Department.create(
        campaign=open_window, name="省委教育工委", route="industry_dept", invite_code="EDU-2021"
    )
    Channel.create(
        campaign=open_window, department=department, route="industry_dept", code="edu2345abc"
    )

    # 1. The contact opens the mini-program from the department's code and logs in.
    code = wechat.state.login_code(appid, "o-contact")
    login = client.post("/api/v1/auth/wxa-login", json={"code": code}).get_json()
    auth = {"Authorization": f"Bearer {login['token']}"}
    opened = client.post("/api/v1/touches", json={"scene": "c=edu2345abc"}, headers=auth)
    assert opened.get_json()["route"] == "industry_dept"

    # 2. Phone from WeChat, then the unit profile.
    phone_code = wechat.state.phone_code(appid, "o-contact", "13712345678")
    client.post("/api/v1/me/phone", json={"code": phone_code}, headers=auth)
    unit = {k: v for k, v in UNIT.items() if k != "contact_phone"}
    assert client.put("/api/v1/me/unit", json=unit, headers=auth).get_json()["contact_phone"] == (
        "13712345678"
    )

    # 3. A draft saved in pieces, a photo, then submit.
    entry = client.post(
        "/api/v1/entries", json={"title": COMPLETE["title"]}, headers=auth
    ).get_json()
    rest = {k: v for k, v in COMPLETE.items() if k != "title"}
    client.patch(f"/api/v1/entries/{entry['id']}", json=rest, headers=auth)
    for name, content in (("活动现场.jpg", jpeg("red")), ("另一张.jpg", jpeg("blue"))):
        uploaded = client.post(
            f"/api/v1/entries/{entry['id']}/attachments",
            data={"kind": "photo", "file": (io.BytesIO(content), name)},
            headers=auth,
            content_type="multipart/form-data",
        )
        assert uploaded.status_code == 201, uploaded.get_json()
    # The stored copy is what WeChat downloads (re-encoded, EXIF gone): flag the second one.
    wechat.state.set_risky_media([Attachment.get(Attachment.original_name == "另一张.jpg").sha256])
    submitted = client.post(f"/api/v1/entries/{entry['id']}/submit", headers=auth)
    assert submitted.get_json()["status"] == "submitted"

    # 4. Jobs: the text goes to msgSecCheck, the photos to mediaCheckAsync; WeChat later
    #    pushes each image's verdict to /wechat/wxa, which the inbox job applies.
    run_jobs()
    assert Entry.get_by_id(entry["id"]).content_check == "pass"
    assert wechat.state.wait_until(
        lambda: (
            sum(
                p.outcome == "accepted" and p.event.get("Event") == "wxa_media_check"
                for p in wechat.state.pushes()
            )
            == 2
        ),
        timeout=10,
    )
    run_jobs()
    verdicts = {a.original_name: a.check_status for a in Attachment.select()}
    assert verdicts == {"活动现场.jpg": "pass", "另一张.jpg": "risky"}

    # 5. The department binds with its invite code and endorses the entry.
    code = wechat.state.login_code(appid, "o-officer")
    officer = client.post("/api/v1/auth/wxa-login", json={"code": code}).get_json()
    officer_auth = {"Authorization": f"Bearer {officer['token']}"}
    client.post("/api/v1/dept/bind", json={"invite_code": "EDU-2021"}, headers=officer_auth)
    listed = client.get("/api/v1/dept/entries", headers=officer_auth).get_json()["items"]
    assert [e["id"] for e in listed] == [entry["id"]]
    endorsed = client.post(
        f"/api/v1/dept/entries/{entry['id']}/endorse", json={}, headers=officer_auth
    )
    assert endorsed.get_json()["status"] == "endorsed"
    mine = client.get(f"/api/v1/entries/{entry['id']}", headers=auth).get_json()
    assert mine["status"] == "endorsed" and mine["department"]["name"] == "省委教育工委"
