"""Revocable department access (issue 11, item 6): a leaked invite code no longer gives
permanent endorse power."""

import datetime
import threading

import pytest

from models import AuditLog, Department, DepartmentMember, utcnow
from tests.factories import Organizer
from tests.factories import WechatCaller as Caller


@pytest.fixture
def setup(client, open_window):
    organizer = Organizer(client, open_window, "organizer-access")
    department = organizer.department("福州市委组织部")
    return organizer, department


def bind(client, openid: str, code: str):
    return Caller(client, openid).post("/api/v1/dept/bind", json={"invite_code": code})


def members(organizer, department_id: int) -> list[int]:
    listed = organizer.get(f"/api/v1/org/departments/{department_id}/members").get_json()
    return [m["user_id"] for m in listed["items"]]


def test_members_are_listed_and_removed_with_an_audit_row(client, setup):
    organizer, department = setup
    officer = Caller(client, "o-officer-1")
    assert (
        officer.post(
            "/api/v1/dept/bind", json={"invite_code": department["invite_code"]}
        ).status_code
        == 200
    )
    assert members(organizer, department["id"]) == [officer.user.id]
    path = f"/api/v1/org/departments/{department['id']}/members/{officer.user.id}"
    assert organizer.delete(path).status_code == 204
    assert organizer.delete(path).status_code == 404
    assert members(organizer, department["id"]) == []
    assert officer.get("/api/v1/dept/entries").status_code == 403  # no endorse power left
    row = AuditLog.get(AuditLog.action == "department.member_removed")
    assert row.before == {"user": officer.user.id} and row.actor.startswith("account:")


def test_rotation_can_revoke_every_member(client, setup):
    organizer, department = setup
    for openid in ("o-a", "o-b"):
        assert bind(client, openid, department["invite_code"]).status_code == 200
    path = f"/api/v1/org/departments/{department['id']}/invite"
    kept = organizer.post(path).get_json()  # a plain rotation keeps members
    assert len(members(organizer, department["id"])) == 2
    revoked = organizer.post(path, json={"revoke_members": True}).get_json()
    assert revoked["invite_code"] not in (department["invite_code"], kept["invite_code"])
    assert members(organizer, department["id"]) == []
    assert bind(client, "o-c", kept["invite_code"]).status_code == 404  # the old code is dead
    row = (
        AuditLog.select()
        .where(AuditLog.action == "department.invite_rotated")
        .order_by(AuditLog.id.desc())
        .get()
    )
    assert len(row.after["revoked_members"]) == 2


def test_an_invite_code_has_a_use_limit(client, setup):
    organizer, department = setup
    rotated = organizer.post(
        f"/api/v1/org/departments/{department['id']}/invite", json={"max_uses": 2}
    ).get_json()
    assert rotated["invite_max_uses"] == 2
    code = rotated["invite_code"]
    assert bind(client, "o-1", code).status_code == 200
    assert bind(client, "o-2", code).status_code == 200
    spent = bind(client, "o-3", code)
    assert spent.status_code == 410 and spent.get_json()["error"]["code"] == "invite_expired"


def test_parallel_bindings_cannot_exceed_the_limit(app, client, setup):
    organizer, department = setup
    code = organizer.post(
        f"/api/v1/org/departments/{department['id']}/invite", json={"max_uses": 3}
    ).get_json()["invite_code"]
    callers = [Caller(app.test_client(), f"o-race-{i}") for i in range(10)]
    barrier = threading.Barrier(len(callers))
    statuses = []

    def go(caller):
        barrier.wait()
        statuses.append(caller.post("/api/v1/dept/bind", json={"invite_code": code}).status_code)

    threads = [threading.Thread(target=go, args=(c,)) for c in callers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert DepartmentMember.select().count() == 3
    assert sorted(statuses) == [200] * 3 + [410] * 7


def test_an_invite_code_expires(client, setup):
    organizer, department = setup
    rotated = organizer.post(
        f"/api/v1/org/departments/{department['id']}/invite", json={"expires_in_days": 7}
    ).get_json()
    assert rotated["invite_expires_at"]
    early = Caller(client, "o-early")
    body = {"invite_code": rotated["invite_code"]}
    assert early.post("/api/v1/dept/bind", json=body).status_code == 200
    Department.update(invite_expires_at=utcnow() - datetime.timedelta(seconds=1)).execute()
    assert bind(client, "o-late", rotated["invite_code"]).status_code == 410
    assert early.post("/api/v1/dept/bind", json=body).status_code == 200  # already a member


@pytest.mark.parametrize(
    "body",
    [{"max_uses": 0}, {"max_uses": 10**30}, {"expires_in_days": 0}, {"revoke_members": "yes"}],
)
def test_bad_rotation_options_are_a_422(setup, body):
    organizer, department = setup
    response = organizer.post(f"/api/v1/org/departments/{department['id']}/invite", json=body)
    assert response.status_code == 422


# --- media links (issue 11, item 9) --------------------------------------------------------


def test_a_media_link_never_opens_a_later_upload_that_reuses_the_row_id(
    client, open_window, settings
):
    import io

    from PIL import Image

    from campaign.entries.media_links import media_token
    from models import Attachment, Entry, Unit, WechatUser
    from storage import get_storage

    owner = WechatUser.create(app="wxa", openid="o-media")
    unit = Unit.create(campaign=open_window, owner=owner, name="单位")
    entry = Entry.create(campaign=open_window, unit=unit, owner=owner, route="online")

    def upload(colour: str) -> Attachment:
        out = io.BytesIO()
        Image.new("RGB", (8, 8), colour).save(out, "PNG")
        stored = get_storage().save(io.BytesIO(out.getvalue()), "png")
        return Attachment.create(
            entry=entry, kind="photo", storage_key=stored.key, mime="image/png", size=stored.size
        )

    def status(link: str) -> int:
        response = client.get(link)
        response.get_data()
        response.close()
        return response.status_code

    first = upload("red")
    link = f"/media/{media_token(settings.secret_key, first.storage_key)}"
    assert status(link) == 200
    first.delete_instance()
    upload("blue")  # on SQLite it gets the deleted row's id
    assert status(link) == 404
