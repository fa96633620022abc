"""Fixtures of the collection tests (issue 10), loaded with
`pytest_plugins = ("tests.collection.fixtures",)`: a department with its channel, a unit
that came through it with a complete entry, and the department's officer."""

import pytest

from models import Channel, Department, Entry
from tests.factories import COMPLETE, UNIT, add_evidence, new_entry
from tests.factories import WechatCaller as Caller


class World:
    """The department D, its unit (a Caller) and its officer (a bound Caller)."""

    def __init__(self, client, campaign):
        self.campaign = campaign
        self.department = Department.create(
            campaign=campaign, name="福州市委组织部", route="org_dept", invite_code="FZ-INVITE"
        )
        Channel.create(
            campaign=campaign, department=self.department, route="org_dept", code="fz2345abcd"
        )
        self.unit = Caller(client, "o-dept-unit")
        self.unit.post("/api/v1/touches", json={"scene": "c%3Dfz2345abcd"})
        assert self.unit.put("/api/v1/me/unit", json=UNIT).status_code == 201
        self.officer = Caller(client, "o-officer")
        bound = self.officer.post("/api/v1/dept/bind", json={"invite_code": "FZ-INVITE"})
        assert bound.status_code == 200

    def submitted(self, **fields) -> dict:
        """A complete entry with one photo, submitted, its text passed by the content check."""
        entry = new_entry(self.unit, **{**COMPLETE, **fields})
        add_evidence(entry["id"])
        response = self.unit.post(f"/api/v1/entries/{entry['id']}/submit")
        assert response.status_code == 200, response.get_json()
        self.checked(entry["id"])
        return response.get_json()

    @staticmethod
    def checked(entry_id: int) -> None:
        """WeChat's content check passed the text (the department sees only checked text)."""
        Entry.update(content_check="pass").where(Entry.id == entry_id).execute()

    def endorsed(self, **fields) -> dict:
        entry = self.submitted(**fields)
        response = self.officer.post(f"/api/v1/dept/entries/{entry['id']}/endorse")
        assert response.status_code == 200, response.get_json()
        return response.get_json()


@pytest.fixture
def world(client, open_window):
    return World(client, open_window)
