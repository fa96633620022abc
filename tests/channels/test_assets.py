"""A channel's codes as files, as plain functions: one row per kind that a new file replaces
(and the old file goes), what a poster says, and the official account's QR budget."""

import datetime

import pytest

from campaign.channels import assets
from models import Campaign, Channel, ChannelAsset, Department
from storage import LocalStorage


@pytest.fixture
def storage(tmp_path):
    return LocalStorage(tmp_path / "files")


@pytest.fixture
def channel(campaign):
    department = Department.create(campaign=campaign, name="某县委组织部", route="org_dept",
                                   invite_code="i")  # fmt: skip
    return Channel.create(campaign=campaign, department=department, route="org_dept",
                          code="chan000001", label="城区海报")  # fmt: skip


def test_a_new_file_replaces_the_old_one_in_the_same_row(channel, storage):
    first = assets.store_asset(channel.id, "link_png", b"one", "png", storage)
    assert assets.is_ready(first, storage)
    second = assets.store_asset(channel.id, "link_png", b"two", "png", storage)
    assert second.id == first.id and second.storage_key != first.storage_key
    assert not storage.exists(first.storage_key)
    with assets.open_asset(second, storage) as stream:
        assert stream.read() == b"two"
    assert ChannelAsset.select().count() == 1


def test_a_failure_is_recorded_and_a_later_success_clears_it(channel, storage):
    assets.mark_asset(channel.id, "wxa", assets.FAILED, error="45009 reach max api daily quota")
    failed = assets.assets_of([channel.id])[channel.id]["wxa"]
    assert (failed.status, failed.error) == ("failed", "45009 reach max api daily quota")
    assert not assets.is_ready(failed, storage)
    ready = assets.store_asset(channel.id, "wxa", b"jpeg", "jpg", storage)
    assert (ready.status, ready.error) == ("ready", None)


def test_ready_means_the_row_says_so_and_the_file_is_there(channel, storage):
    stored = assets.store_asset(channel.id, "link_svg", b"<svg/>", "svg", storage)
    assert assets.is_ready(stored, storage)
    assert not assets.is_ready(None, storage)
    storage.delete(stored.storage_key)
    assert not assets.is_ready(stored, storage)
    assert assets.open_asset(stored, storage) is None
    assets.mark_asset(channel.id, "link_svg", assets.PENDING)
    assert assets.assets_of([channel.id])[channel.id]["link_svg"].status == "pending"


def test_assets_of_lists_every_channel_asked_for(channel, storage):
    assets.store_asset(channel.id, "link_png", b"png", "png", storage)
    found = assets.assets_of([channel.id, 99999])
    assert set(found) == {channel.id, 99999}
    assert set(found[channel.id]) == {"link_png"} and found[99999] == {}
    assert assets.assets_of([]) == {}


def test_links_and_types():
    base = "https://campaign.example.cn"
    assert assets.link_url(base, "abc") == f"{base}/q/abc"
    assert assets.invite_url(base, "INV") == f"{base}/q/i/INV"
    assert assets.mime_of("2026/01/x.svg") == "image/svg+xml"
    assert assets.mime_of("x.bin") == "application/octet-stream"


def test_a_poster_names_the_department_and_the_window_in_local_time(channel, campaign):
    Campaign.update(
        opens_at=datetime.datetime(2021, 6, 30, 16, 0),  # 2021-07-01 00:00 in Beijing
        closes_at=datetime.datetime(2021, 8, 31, 15, 59),
    ).where(Campaign.id == campaign.id).execute()
    fields = assets.poster_fields(Channel.get_by_id(channel.id), "https://x.cn")
    assert fields["name"] == "某县委组织部" and fields["label"] == "城区海报"
    assert fields["url"] == "https://x.cn/q/chan000001"
    assert fields["footer"][0] == "征集时间：2021年7月1日至2021年8月31日"
    assert fields["instruction"] == assets.DEFAULT_INSTRUCTION


def test_an_online_channel_poster_is_named_by_its_label(campaign):
    online = Channel.create(campaign=campaign, route="online", code="online0001", label="官网")
    fields = assets.poster_fields(online, "https://x.cn")
    assert (fields["name"], fields["label"]) == ("官网", "")
    nameless = Channel.create(campaign=campaign, route="online", code="online0002")
    assert assets.poster_fields(nameless, "https://x.cn")["name"] == campaign.title


def test_the_mp_qr_budget_warns_near_the_cap_and_when_spent(campaign, override_settings):
    override_settings(wechat_mp_qr_budget=10)
    channels = [Channel.create(campaign=campaign, route="online", code=f"code{n:06d}")
                for n in range(10)]  # fmt: skip
    for channel in channels[:8]:
        assets.mark_asset(channel.id, "mp", assets.READY, ticket=f"t{channel.id}")
    assets.mark_asset(channels[8].id, "mp", assets.FAILED)  # no ticket: not spent
    usage = assets.mp_qr_usage()
    assert (usage["used"], usage["budget"], usage["remaining"], usage["warning"]) == (
        8, 10, 2, None)  # fmt: skip
    assets.mark_asset(channels[8].id, "mp", assets.READY, ticket="t8")
    assert "9/10" in assets.mp_qr_usage()["warning"]
    assets.mark_asset(channels[9].id, "mp", assets.READY, ticket="t9")
    spent = assets.mp_qr_usage()
    assert spent["remaining"] == 0 and "已用完" in spent["warning"]
