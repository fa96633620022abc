"""Late codes open what they promise (create, save, submit after the deadline) and nothing
else: a wrong `X-Late-Code` reopens nothing."""

import datetime

import pytest

from models import Attachment, Campaign, Entry, LateCode, utcnow
from tests.factories import COMPLETE, new_entry

pytest_plugins = ("tests.collection.fixtures",)


@pytest.fixture
def closed(world):
    """A draft of the unit, then the deadline passes; a live late code for its department."""
    draft = new_entry(world.unit, **COMPLETE)
    Attachment.create(entry=draft["id"], kind="photo", storage_key="x", mime="image/jpeg")
    Campaign.update(closes_at=utcnow() - datetime.timedelta(hours=1)).execute()
    LateCode.create(
        campaign=world.campaign,
        department=world.department,
        code="L-VALID",
        expires_at=utcnow() + datetime.timedelta(days=2),
        created_by="account:1",
    )
    return draft


def test_a_valid_code_creates_saves_and_submits(world, closed):
    late = {"X-Late-Code": "L-VALID"}
    path = f"/api/v1/entries/{closed['id']}"
    saved = world.unit.patch(path, json={"title": "补报的标题"}, headers=late)
    assert saved.status_code == 200, saved.get_json()
    assert Entry.get_by_id(closed["id"]).title == "补报的标题"
    created = world.unit.post("/api/v1/entries", json={"title": "补报的新案例"}, headers=late)
    assert created.status_code == 201, created.get_json()
    submitted = world.unit.post(path + "/submit", headers=late)
    assert submitted.status_code == 200, submitted.get_json()
    assert LateCode.get().uses == 1


@pytest.mark.parametrize("code", ["anything", "L-VALID ", "", "x" * 40])
def test_an_invalid_code_reopens_nothing(world, closed, code):
    late = {"X-Late-Code": code}
    created = world.unit.post("/api/v1/entries", json={"title": "迟到"}, headers=late)
    assert created.status_code == 409
    assert created.get_json()["error"]["code"] == "collection_closed"
    saved = world.unit.patch(f"/api/v1/entries/{closed['id']}", json={"title": "x"}, headers=late)
    assert saved.status_code == 409
    assert saved.get_json()["error"]["code"] == "deadline_passed"
    assert Entry.select().count() == 1
    assert Entry.get_by_id(closed["id"]).title == COMPLETE["title"]


def test_a_code_of_another_department_reopens_nothing(world, closed):
    from models import Department

    other = Department.create(
        campaign=world.campaign, name="其他", route="org_dept", invite_code="OTHER"
    )
    LateCode.update(department=other).execute()
    late = {"X-Late-Code": "L-VALID"}
    assert world.unit.post("/api/v1/entries", json={}, headers=late).status_code == 409
    path = f"/api/v1/entries/{closed['id']}"
    assert world.unit.patch(path, json={"title": "x"}, headers=late).status_code == 409


def test_an_expired_code_reopens_nothing(world, closed):
    LateCode.update(expires_at=utcnow() - datetime.timedelta(minutes=1)).execute()
    late = {"X-Late-Code": "L-VALID"}
    assert world.unit.post("/api/v1/entries", json={}, headers=late).status_code == 409
