"""A department's kit as plain functions: safe names, which files go in (and how), and a note
and manifest that list what is still missing instead of failing."""

import csv
import io
import zipfile

import pytest

from campaign.channels import kits
from campaign.channels.assets import KINDS, assets_of, mark_asset, store_asset
from models import Channel, Department
from storage import LocalStorage

BASE = "https://campaign.example.cn"


@pytest.mark.parametrize(
    "name, safe",
    [
        ("福州市/鼓楼区:委组织部", "福州市_鼓楼区_委组织部"),
        ('a\\b*c?d"e<f>g|h\x00i', "a_b_c_d_e_f_g_h_i"),
        ("  ..某单位.. ", "某单位"),
        ("...", "未命名"),
        ("", "未命名"),
    ],
)
def test_names_are_safe_for_every_unzip_tool(name, safe):
    assert kits.safe_name(name) == safe


def test_names_are_cut_to_the_limit():
    assert kits.safe_name("名" * 100) == "名" * 60
    assert kits.safe_name("名" * 100, limit=5) == "名" * 5


@pytest.fixture
def world(campaign, tmp_path):
    department = Department.create(campaign=campaign, name="某县/委组织部", route="org_dept",
                                   region="福州市", invite_code="INVITE123")  # fmt: skip
    channel = Channel.create(campaign=campaign, department=department, route="org_dept",
                             code="abcd234567", label="海报一")  # fmt: skip
    storage = LocalStorage(tmp_path / "files")
    store_asset(channel.id, "poster_png", b"\x89PNG poster", "png", storage)
    store_asset(channel.id, "link_svg", b"<svg/>" * 50, "svg", storage)
    mark_asset(channel.id, "wxa", "failed", error="WeChat refused")
    return {"department": department, "channel": channel, "storage": storage,
            "assets": assets_of([channel.id])}  # fmt: skip


def test_folders_name_route_department_and_channel(world):
    department, channel = world["department"], world["channel"]
    assert kits.department_folder(department) == f"组织部门推荐/某县_委组织部-{department.id}/"
    assert kits.channel_folder(channel) == "海报一-abcd234567/"
    Channel.update(label="").where(Channel.id == channel.id).execute()
    assert kits.channel_folder(Channel.get_by_id(channel.id)) == "abcd234567-abcd234567/"


def test_a_department_holds_its_ready_files_only_compressed_where_it_helps(world):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        kits.add_department(archive, "d/", world["department"], [world["channel"]],
                            world["assets"], world["storage"], BASE, b"\x89PNG invite")  # fmt: skip
    with zipfile.ZipFile(buffer) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        assert set(infos) == {
            "d/使用说明.txt",
            "d/绑定邀请二维码.png",
            "d/海报一-abcd234567/海报.png",
            "d/海报一-abcd234567/二维码.svg",
        }
        assert archive.read("d/海报一-abcd234567/海报.png") == b"\x89PNG poster"
        assert infos["d/海报一-abcd234567/海报.png"].compress_type == zipfile.ZIP_STORED
        assert infos["d/海报一-abcd234567/二维码.svg"].compress_type == zipfile.ZIP_DEFLATED
        assert infos["d/使用说明.txt"].compress_type == zipfile.ZIP_DEFLATED


def test_a_file_gone_from_storage_is_listed_as_missing(world):
    asset = world["assets"][world["channel"].id]["poster_png"]
    world["storage"].delete(asset.storage_key)
    note = kits.readme(world["department"], [world["channel"]], world["assets"],
                       world["storage"], BASE)  # fmt: skip
    missing = next(line for line in note.splitlines() if "尚未生成" in line)
    assert "海报.png" in missing and "小程序码.jpg" in missing and "二维码.svg" not in missing


def test_the_note_carries_the_invite_code_and_each_link(world):
    note = kits.readme(world["department"], [world["channel"]], world["assets"],
                       world["storage"], BASE)  # fmt: skip
    assert "INVITE123" in note
    assert f"渠道「海报一」 链接：{BASE}/q/abcd234567" in note


def test_the_manifest_counts_ready_files_and_names_the_rest(world):
    rows = kits.manifest_rows(world["department"], [world["channel"]], world["assets"],
                              world["storage"], BASE)  # fmt: skip
    assert len(rows) == 1
    row = rows[0]
    assert (row["部门"], row["征集方式"], row["地区"], row["渠道码"], row["已生成"]) == (
        "某县/委组织部", "组织部门推荐", "福州市", "abcd234567", 2)  # fmt: skip
    missing = row["缺少"].split("、")
    assert set(missing) == {spec.file_name for kind, spec in KINDS.items()
                            if kind not in ("poster_png", "link_svg")}  # fmt: skip


def test_the_manifest_has_a_bom_for_excel_and_is_left_out_when_empty(world):
    rows = kits.manifest_rows(world["department"], [world["channel"]], world["assets"],
                              world["storage"], BASE)  # fmt: skip
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        kits.write_manifest(archive, rows)
        kits.write_manifest(archive, [])  # nothing to list: no second file, no error
    with zipfile.ZipFile(buffer) as archive:
        assert archive.namelist() == ["清单.csv"]
        raw = archive.read("清单.csv")
    assert raw.startswith("\ufeff".encode())
    read = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert read[0]["渠道码"] == "abcd234567" and list(read[0]) == list(kits.MANIFEST_FIELDS)
