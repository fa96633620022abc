"""PII (issue 11, item 8): phone numbers are ciphertext at rest, found by a keyed hash,
rotatable; masked in logs; contact data and old records removed on schedule."""

import base64
import datetime
import io
import json
import logging

import pytest

import sealing as crypto
from campaign.phones import rekey, search_condition
from campaign.retention import ANONYMIZED
from logs import JsonFormatter
from models import (
    AuditLog,
    Campaign,
    Department,
    InboundEvent,
    Touch,
    Unit,
    WechatUser,
    db,
    utcnow,
)
from tasks.retention import apply_retention
from tests.factories import UNIT
from tests.factories import WechatCaller as Caller

PHONE = UNIT["contact_phone"]  # 13800138000


def stored(table: str, column: str) -> list[str]:
    """What a database dump shows."""
    return [row[0] for row in db.execute_sql(f'SELECT "{column}" FROM "{table}"').fetchall()]


@pytest.fixture
def unit(client, open_window):
    caller = Caller(client, "o-private-unit")
    assert caller.put("/api/v1/me/unit", json=UNIT).status_code == 201
    return caller


def test_phone_numbers_are_ciphertext_in_the_database(unit, campaign):
    Department.create(
        campaign=campaign, name="某部", route="org_dept", invite_code="PRIV-1", contact_phone=PHONE
    )
    WechatUser.update(phone="13912345678").where(WechatUser.id == unit.user.id).execute()
    dumped = stored("unit", "contact_phone") + stored("department", "contact_phone")
    dumped += stored("wechat_user", "phone")
    assert all(value and crypto.is_sealed(value) for value in dumped if value), dumped
    assert not any(PHONE in value or "13912345678" in value for value in dumped if value)
    # … while the code and the owner see the number
    assert Unit.get(Unit.owner == unit.user).contact_phone == PHONE
    assert unit.get("/api/v1/me/unit").get_json()["contact_phone"] == PHONE


def test_sealing_is_randomized_but_search_finds_the_number(unit, client, open_window):
    other = Caller(client, "o-private-other")
    other.put("/api/v1/me/unit", json={**UNIT, "name": "另一个单位", "contact_phone": PHONE})
    third = Caller(client, "o-private-third")
    third.put(
        "/api/v1/me/unit", json={**UNIT, "name": "第三个单位", "contact_phone": "13700137000"}
    )
    values = stored("unit", "contact_phone")
    assert len(set(values)) == 3  # the same number twice: two different ciphertexts
    found = Unit.select().where(search_condition(Unit.contact_phone, "+86 138 0013 8000"))
    assert sorted(u.name for u in found) == sorted([UNIT["name"], "另一个单位"])
    assert Unit.select().where(Unit.contact_phone == PHONE).count() == 0  # no clear match


def test_rotation_reseals_under_the_new_key(unit, settings):
    old = settings.phone_keys
    new_key = (2, base64.b64encode(b"n" * 32).decode())
    try:
        crypto.configure((new_key, *old))  # the new key first, the old one still opens
        assert Unit.get(Unit.owner == unit.user).contact_phone == PHONE
        assert rekey()["unit"] == 1
        assert rekey()["unit"] == 0  # idempotent
        assert stored("unit", "contact_phone")[0].split("$")[1].startswith("enc1:2:")
        crypto.configure((new_key,))  # the old key is gone
        assert Unit.get(Unit.owner == unit.user).contact_phone == PHONE
        assert Unit.select().where(search_condition(Unit.contact_phone, PHONE)).count() == 1
    finally:
        crypto.configure(old)


def test_a_row_sealed_under_a_dropped_key_fails_loudly(unit, settings):
    old = settings.phone_keys
    try:
        crypto.configure(((9, base64.b64encode(b"x" * 32).decode()),))
        with pytest.raises(crypto.PhoneKeyError, match="key 1"):
            Unit.get(Unit.owner == unit.user)
    finally:
        crypto.configure(old)


def test_logs_mask_mobile_numbers():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.privacy")
    logger.addHandler(handler)
    try:
        logger.warning(
            "unit contact 13800138000 called", extra={"fields": {"phone": "+86 13912345678"}}
        )
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert line["msg"] == "unit contact 138****8000 called"
    assert line["fields" if "fields" in line else "phone"] == "+86 139****5678"
    assert "13800138000" not in stream.getvalue()


def test_retention_anonymizes_contacts_after_the_campaign_and_drops_old_records(
    unit, open_window, settings
):
    long_ago = utcnow() - datetime.timedelta(days=settings.retention_contact_days + 400)
    ended = Campaign.create(
        slug="c2019", title="2019", theme="t", organizer="o", opens_at=long_ago,
        closes_at=long_ago, limits={}, quotas={}, contact={}, regions=[], org_levels=[],
    )  # fmt: skip
    old_user = WechatUser.create(app="wxa", openid="o-2019", phone="13600136000", nickname="老王")
    old_user_seen = utcnow() - datetime.timedelta(days=settings.retention_contact_days + 1)
    WechatUser.update(last_seen_at=old_user_seen).where(WechatUser.id == old_user.id).execute()
    Unit.create(campaign=ended, owner=old_user, name="2019单位", contact_name="李四",
                contact_phone="13600136000")  # fmt: skip
    Department.create(campaign=ended, name="老部门", route="org_dept", invite_code="OLD-1",
                      contact_name="张三", contact_phone="13500135000")  # fmt: skip
    old = utcnow() - datetime.timedelta(days=settings.retention_log_days + 1)
    Touch.create(campaign=ended, kind="link_scan", visitor="v-old", at=old, rolled=True)
    Touch.create(campaign=ended, kind="link_scan", visitor="v-unrolled", at=old, rolled=False)
    Touch.create(campaign=open_window, kind="link_scan", visitor="v-new", rolled=True)
    InboundEvent.create(app="wxa", dedupe_key="k-old", msg_type="event", payload={},
                        state="done", received_at=old)  # fmt: skip

    report = apply_retention()
    assert report["units"] == 1 and report["departments"] == 1 and report["users"] == 1
    gone = Unit.get(Unit.campaign == ended)
    assert (gone.contact_name, gone.contact_phone, gone.name) == (ANONYMIZED, "", "2019单位")
    assert Department.get(Department.campaign == ended).contact_phone == ""
    assert WechatUser.get_by_id(old_user.id).phone is None
    current = Unit.get(Unit.owner == unit.user)  # the running campaign keeps its contacts
    assert (current.contact_name, current.contact_phone) == (UNIT["contact_name"], PHONE)
    assert sorted(t.visitor for t in Touch.select()) == ["v-new", "v-unrolled"]
    assert InboundEvent.select().count() == 0
    assert AuditLog.select().where(AuditLog.action == "retention.contacts_anonymized").count() == 1
    assert apply_retention()["units"] == 0  # nothing left to do
