"""Evidence for those who judge it: the entry's department and organizers list every
attachment with signed, expiring links, open it inline safely, and organizers pass or block
what no machine checks (audited)."""

import io

import pytest
from itsdangerous import URLSafeTimedSerializer
from PIL import Image

from campaign.entries import evidence_access
from models import Attachment, AuditLog
from storage import get_storage
from tests.factories import Organizer

pytest_plugins = ("tests.collection.fixtures",)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def stored(entry_id: int, kind: str, content: bytes, mime: str, name: str) -> Attachment:
    saved = get_storage().save(io.BytesIO(content), mime.rpartition("/")[2])
    return Attachment.create(
        entry=entry_id,
        kind=kind,
        storage_key=saved.key,
        mime=mime,
        size=saved.size,
        original_name=name,
        check_status="manual" if mime == "application/pdf" else "pass",
    )


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def judged(world, client):
    entry = world.submitted()
    Attachment.delete().where(Attachment.entry == entry["id"]).execute()
    photo = stored(entry["id"], "photo", png(), "image/png", "活动照片.png")
    report = stored(entry["id"], "press", PDF, "application/pdf", "报道.pdf")
    organizer = Organizer(client, world.campaign)
    return entry, photo, report, organizer


def open_link(client, url: str):
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def test_the_department_opens_every_item_inline_and_safely(world, judged, client):
    entry, photo, report, _ = judged
    items = world.officer.get(f"/api/v1/dept/entries/{entry['id']}/attachments").get_json()["items"]
    assert [i["id"] for i in items] == [photo.id, report.id]
    assert all(i["expires_in"] == evidence_access.LINK_LIFETIME for i in items)
    served = open_link(client, items[1]["url"])  # no bearer token needed
    assert served.status_code == 200
    assert served.data == PDF
    assert served.mimetype == "application/pdf"
    assert served.headers["Content-Disposition"].startswith("inline;")
    assert "filename*=UTF-8''%E6%8A%A5%E9%81%93.pdf" in served.headers["Content-Disposition"]
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"].startswith("sandbox")
    image = open_link(client, items[0]["url"])
    assert image.mimetype == "image/png" and image.data == png()


def test_organizers_see_every_item(judged):
    entry, photo, report, organizer = judged
    Attachment.update(check_status="risky").where(Attachment.id == photo.id).execute()
    items = organizer.get(f"/api/v1/org/entries/{entry['id']}/attachments").get_json()["items"]
    assert [i["id"] for i in items] == [photo.id, report.id]


def test_risky_items_are_kept_from_the_department(world, judged):
    entry, photo, report, _ = judged
    Attachment.update(check_status="risky").where(Attachment.id == photo.id).execute()
    items = world.officer.get(f"/api/v1/dept/entries/{entry['id']}/attachments").get_json()["items"]
    assert [i["id"] for i in items] == [report.id]


def test_forged_expired_and_foreign_tokens_open_nothing(judged, client, settings):
    _, photo, _, _ = judged
    forged = URLSafeTimedSerializer("not-the-secret", salt=evidence_access.LINK_SALT).dumps(
        photo.storage_key
    )
    media_token = URLSafeTimedSerializer(settings.secret_key, salt="media-check-key").dumps(
        photo.storage_key
    )
    for token in (forged, media_token, "garbage"):
        response = open_link(client, f"/api/v1/evidence/{token}")
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "link_invalid"
    good = evidence_access.link_token(settings.secret_key, photo)
    assert evidence_access.linked_attachment(settings.secret_key, good).id == photo.id
    assert (
        evidence_access.media_links.storage_key_for(
            settings.secret_key, good, max_age=-1, salt=evidence_access.LINK_SALT
        )
        is None
    )


def test_manual_items_wait_for_an_audited_decision(judged):
    entry, photo, report, organizer = judged
    queue = organizer.get("/api/v1/org/evidence/pending").get_json()["items"]
    assert [(i["id"], i["entry"]) for i in queue] == [(report.id, entry["id"])]
    path = f"/api/v1/org/attachments/{report.id}/decision"
    refused = organizer.post(path, json={"decision": "maybe"})
    assert refused.status_code == 422
    assert {f["field"] for f in refused.get_json()["error"]["fields"]} == {"decision", "reason"}
    decided = organizer.post(path, json={"decision": "block", "reason": "与案例无关的广告"})
    assert decided.get_json()["check_status"] == "blocked"
    log = AuditLog.get(AuditLog.action == "attachment.decision")
    assert log.before == {"check_status": "manual"}
    assert log.after == {"check_status": "blocked", "reason": "与案例无关的广告"}
    assert log.actor == f"account:{organizer.account.id}"
    assert organizer.get("/api/v1/org/evidence/pending").get_json()["items"] == []
