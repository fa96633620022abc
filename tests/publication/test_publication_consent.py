"""Consent to publish the unit's name: asked at submission, explicit yes only."""

import pytest

from models import AuditLog, Entry
from tests.factories import COMPLETE, UNIT, WechatCaller, add_evidence, new_entry


@pytest.fixture
def unit(client, open_window):
    caller = WechatCaller(client, "o-consent")
    assert caller.put("/api/v1/me/unit", json=UNIT).status_code == 201
    return caller


def test_submit_records_the_answer_and_only_a_boolean_counts(unit):
    entry = new_entry(unit, **COMPLETE)
    add_evidence(entry["id"])
    assert entry["publish_name"] is None  # not asked yet: nothing would be published
    submitted = unit.post(f"/api/v1/entries/{entry['id']}/submit", json={"publish_name": True})
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["publish_name"] is True
    assert Entry.get_by_id(entry["id"]).name_consent is True


def test_a_string_is_not_consent(unit):
    entry = new_entry(unit, **COMPLETE)
    add_evidence(entry["id"])
    unit.post(f"/api/v1/entries/{entry['id']}/submit", json={"publish_name": "yes"})
    assert Entry.get_by_id(entry["id"]).name_consent is None


def test_the_organizer_records_consent_given_by_phone(seed, organizer):
    entry = seed.entry(consent=None)
    response = organizer.put(
        f"/api/v1/org/publications/consents/{entry.id}", json={"granted": True}
    )
    assert response.status_code == 200
    assert Entry.get_by_id(entry.id).name_consent is True
    assert AuditLog.get(AuditLog.action == "entry.name_consent").after == {"name_consent": True}
    bad = organizer.put(f"/api/v1/org/publications/consents/{entry.id}", json={"granted": 1})
    assert bad.status_code == 422
