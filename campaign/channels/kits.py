"""What goes into a department's kit ZIP: its codes and posters, named for people, and a note.

Folder names are the department's name (and, for the all-departments ZIP, its route), made
safe for every unzip tool. Files already compressed (PNG, JPEG) are stored, the rest
deflated. A kit lists what is missing (a mini-program code WeChat refused, say) rather than
failing: the organizer can hand out the posters today and the rest later.
"""

import csv
import io
import re
import shutil
import time
import zipfile

from campaign.channels import assets as codes
from models import Channel, Department
from storage import Storage

ROUTE_FOLDERS = {"org_dept": "组织部门推荐", "industry_dept": "行业部门推荐",
                 "party_school": "党校系统推荐"}  # fmt: skip
UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
STORED = {"png", "jpg", "zip"}
COPY_CHUNK = 64 * 1024
MANIFEST_FIELDS = ("部门", "征集方式", "地区", "渠道", "渠道码", "链接", "已生成", "缺少")


def safe_name(name: str, limit: int = 60) -> str:
    """A file or folder name without separators or control characters, never empty."""
    cleaned = UNSAFE.sub("_", name).strip(" .") or "未命名"
    return cleaned[:limit]


def department_folder(department: Department) -> str:
    route = ROUTE_FOLDERS.get(department.route, department.route)
    return f"{safe_name(route)}/{safe_name(department.name)}-{department.id}/"


def channel_folder(channel: Channel) -> str:
    return f"{safe_name(channel.label or channel.code)}-{channel.code}/"


def add_department(
    archive: zipfile.ZipFile,
    folder: str,
    department: Department,
    channels: list[Channel],
    assets: dict,
    storage: Storage,
    base_url: str,
    invite_png: bytes,
) -> None:
    """The department's note, invite QR and every channel's ready files under `folder`."""
    _write(
        archive, folder + "使用说明.txt", readme(department, channels, assets, storage, base_url)
    )
    _write(archive, folder + "绑定邀请二维码.png", invite_png)
    for channel in channels:
        for kind, spec in codes.KINDS.items():
            asset = assets[channel.id].get(kind)
            if not codes.is_ready(asset, storage):
                continue
            extension = asset.storage_key.rsplit(".", 1)[-1]
            name = spec.file_name.rsplit(".", 1)[0] + "." + extension
            with storage.open(asset.storage_key) as stream:
                _copy(archive, folder + channel_folder(channel) + name, stream)


def readme(department, channels, assets, storage, base_url: str) -> str:
    """The note in the kit: what each file is for, and the department's invite code."""
    lines = [
        f"{department.name} 推广码",
        "",
        "海报-印刷版.pdf：A4 海报，矢量图形，可直接交付印刷。",
        "海报.png：用于手机、电脑屏幕展示和微信群转发。",
        "二维码.png / .svg / -印刷版.pdf：单独的二维码，任何扫码工具都能打开。",
        "小程序码.jpg：微信扫码直接进入小程序。",
        "公众号二维码.png：微信扫码关注公众号后进入报名。",
        "所有码都带有本单位的渠道标识，经此进入的报名自动计入本单位。",
        "",
        f"推荐单位管理员绑定：微信扫描“绑定邀请二维码.png”，或在小程序中输入邀请码 "
        f"{department.invite_code}（请勿外传）。",
        "",
    ]
    for channel in channels:
        link = codes.link_url(base_url, channel.code)
        lines.append(f"渠道「{channel.label or channel.code}」 链接：{link}")
        missing = [k for k in codes.KINDS if not codes.is_ready(assets[channel.id].get(k), storage)]
        if missing:
            lines.append(f"  尚未生成：{'、'.join(codes.KINDS[k].file_name for k in missing)}")
    return "\n".join(lines) + "\n"


def manifest_rows(department, channels, assets, storage, base_url: str) -> list[dict]:
    rows = []
    for channel in channels:
        ready = [k for k in codes.KINDS if codes.is_ready(assets[channel.id].get(k), storage)]
        rows.append(
            dict(zip(MANIFEST_FIELDS, (
                department.name, ROUTE_FOLDERS.get(department.route, department.route),
                department.region, channel.label, channel.code,
                codes.link_url(base_url, channel.code), len(ready),
                "、".join(codes.KINDS[k].file_name for k in codes.KINDS if k not in ready),
            ), strict=True))
        )  # fmt: skip
    return rows


def write_manifest(archive: zipfile.ZipFile, rows: list[dict]) -> None:
    """清单.csv at the top, with a BOM so Excel on Windows reads the Chinese correctly."""
    if not rows:
        return
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=MANIFEST_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    _write(archive, "清单.csv", ("\ufeff" + text.getvalue()).encode())


def _method(name: str) -> int:
    extension = name.rsplit(".", 1)[-1].lower()
    return zipfile.ZIP_STORED if extension in STORED else zipfile.ZIP_DEFLATED


def _write(archive: zipfile.ZipFile, name: str, content) -> None:
    data = content.encode() if isinstance(content, str) else content
    archive.writestr(name, data, compress_type=_method(name))


def _copy(archive: zipfile.ZipFile, name: str, stream) -> None:
    """A stored file into the archive in chunks: the all-departments ZIP holds thousands of
    files and is written to a file, so no file (and never the archive) is whole in memory."""
    member = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    member.compress_type = _method(name)
    member.external_attr = 0o644 << 16
    with archive.open(member, "w") as out:
        shutil.copyfileobj(stream, out, COPY_CHUNK)
