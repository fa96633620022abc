"""Touches as plain functions: the record that crosses Redis, and persisting a batch of them
as rows plus first-touch attributions in one go."""

import datetime

import pytest

from campaign.channels.touches import persist_touches, touch_record
from models import Attribution, Campaign, Channel, Department, Touch, WechatUser
from tests.factories import other_campaign


@pytest.fixture
def channel(campaign):
    department = Department.create(campaign=campaign, name="甲", route="org_dept", invite_code="i")
    return Channel.create(campaign=campaign, department=department, route="org_dept",
                          code="chan000001")  # fmt: skip


def test_a_record_is_plain_json_stamped_now():
    record = touch_record("mp_scan", code="chan000001", app="mp", openid="o-1")
    assert record["kind"] == "mp_scan" and record["client"] == "wechat"
    stamped = datetime.datetime.fromisoformat(record["at"])
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    assert abs(now - stamped) < datetime.timedelta(seconds=5) and stamped.tzinfo is None


def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        touch_record("carrier_pigeon")


def test_a_batch_becomes_rows_and_a_scan_with_an_identity_attributes(campaign, channel):
    records = [
        touch_record("link_scan", code="chan000001", visitor="v-1", client="other"),
        touch_record("mp_scan", code="chan000001", app="mp", openid="o-1"),
        touch_record("wxa_open", app="wxa", openid="o-2"),  # no code: counted, not attributed
        touch_record("link_scan", code="unknown000"),
    ]
    assert persist_touches(records) == 4
    rows = list(Touch.select().order_by(Touch.id))
    assert [(r.kind, r.channel_id, r.client) for r in rows] == [
        ("link_scan", channel.id, "other"),
        ("mp_scan", channel.id, "wechat"),
        ("wxa_open", None, "wechat"),
        ("link_scan", None, "wechat"),
    ]
    assert all(r.campaign_id == campaign.id for r in rows)
    scanner = WechatUser.get((WechatUser.app == "mp") & (WechatUser.openid == "o-1"))
    assert rows[1].user_id == scanner.id and rows[0].visitor == "v-1"
    assert Attribution.get(Attribution.user == scanner).department_id == channel.department_id
    opener = WechatUser.get(WechatUser.openid == "o-2")
    assert not Attribution.select().where(Attribution.user == opener).exists()


def test_a_code_of_another_campaign_files_the_touch_there(campaign, channel):
    past = other_campaign(campaign)
    old = Channel.create(campaign=past, route="online", code="oldcode001")
    persist_touches([touch_record("mp_scan", code="oldcode001", app="mp", openid="o-1")])
    touch = Touch.get()
    assert (touch.campaign_id, touch.channel_id) == (past.id, old.id)
    assert Attribution.get().campaign_id == past.id


def test_big_batches_are_written_whole(campaign, channel):
    records = [touch_record("link_scan", code="chan000001", visitor=f"v{n}") for n in range(1203)]
    assert persist_touches(records) == 1203
    assert Touch.select().count() == 1203


def test_nothing_to_do_without_records_or_a_current_campaign(campaign, channel):
    assert persist_touches([]) == 0
    Campaign.update(is_current=False).execute()
    assert persist_touches([touch_record("link_scan", code="chan000001")]) == 0
    assert Touch.select().count() == 0
