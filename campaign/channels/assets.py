"""A channel's codes as files: which kinds exist, what they say, where they are stored.

Each kind is one `ChannelAsset` row (unique per channel and kind) pointing at one stored
file. Drawing happens in jobs (`tasks.qrcodes`); this module only knows the bookkeeping, so
it needs neither WeChat nor an image library. The official account's permanent QR codes are
capped at 100,000 per account, ever (WECHAT-NOTES): we count the tickets we created and
warn well before the cap (`WECHAT_MP_QR_BUDGET` lowers it when other systems share the
account).
"""

import io
from dataclasses import dataclass

from campaign.clock import to_local
from config import current_settings
from models import Channel, ChannelAsset, utcnow
from storage import Storage, StorageError

PENDING, READY, FAILED = "pending", "ready", "failed"
MP_QR_LIMIT = 100_000
MP_QR_WARN_SHARE = 0.9
DEFAULT_INSTRUCTION = "微信扫码，参加党建品牌、优秀案例征集"


@dataclass(frozen=True)
class AssetKind:
    mime: str
    extension: str
    file_name: str  # inside a kit, and the download name
    source: str  # link | wxa | mp


KINDS = {
    "poster_pdf": AssetKind("application/pdf", "pdf", "海报-印刷版.pdf", "link"),
    "poster_png": AssetKind("image/png", "png", "海报.png", "link"),
    "link_png": AssetKind("image/png", "png", "二维码.png", "link"),
    "link_svg": AssetKind("image/svg+xml", "svg", "二维码.svg", "link"),
    "link_pdf": AssetKind("application/pdf", "pdf", "二维码-印刷版.pdf", "link"),
    "wxa": AssetKind("image/jpeg", "jpg", "小程序码.jpg", "wxa"),
    "mp": AssetKind("image/png", "png", "公众号二维码.png", "mp"),
}
LOCAL_KINDS = tuple(kind for kind, spec in KINDS.items() if spec.source == "link")
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MIME_BY_EXTENSION = {"png": "image/png", "jpg": "image/jpeg", "svg": "image/svg+xml",
                     "pdf": "application/pdf", "zip": "application/zip",
                     "docx": DOCX_MIME,
                     "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml"
                             ".sheet"}  # fmt: skip


def link_url(base_url: str, code: str) -> str:
    """The plain link every channel's QR codes and posters carry."""
    return f"{base_url}/q/{code}"


def invite_url(base_url: str, invite_code: str) -> str:
    """The link of a department's invite QR: the mini-program binds with the code in it."""
    return f"{base_url}/q/i/{invite_code}"


def poster_fields(channel: Channel, base_url: str) -> dict:
    """What the channel's poster says (fields of `drawing.qrdraw.PosterText`)."""
    campaign = channel.campaign
    department = channel.department if channel.department_id else None
    name = department.name if department else (channel.label or campaign.title)
    opens = to_local(campaign.opens_at, campaign.timezone)
    closes = to_local(campaign.closes_at, campaign.timezone)
    return {
        "title": campaign.title,
        "theme": campaign.theme,
        "name": name,
        "label": channel.label if channel.label != name else "",
        "instruction": (campaign.settings or {}).get("poster_instruction", DEFAULT_INSTRUCTION),
        "url": link_url(base_url, channel.code),
        "footer": (
            f"征集时间：{opens:%Y年%-m月%-d日}至{closes:%Y年%-m月%-d日}",
            f"主办：{campaign.organizer}",
        ),
    }


def assets_of(channel_ids: list[int]) -> dict[int, dict[str, ChannelAsset]]:
    """channel id → kind → asset row, for many channels in one query."""
    found: dict[int, dict[str, ChannelAsset]] = {cid: {} for cid in channel_ids}
    if channel_ids:
        for asset in ChannelAsset.select().where(ChannelAsset.channel.in_(channel_ids)):
            found[asset.channel_id][asset.kind] = asset
    return found


def is_ready(asset: ChannelAsset | None, storage: Storage) -> bool:
    return bool(asset and asset.status == READY and asset.storage_key) and storage.exists(
        asset.storage_key
    )


def store_asset(
    channel_id: int, kind: str, content: bytes, extension: str, storage: Storage, **fields
) -> ChannelAsset:
    """Save the file, point the channel's `kind` row at it, then drop the file it replaced."""
    stored = storage.save(io.BytesIO(content), extension)
    old = ChannelAsset.get_or_none(
        (ChannelAsset.channel == channel_id) & (ChannelAsset.kind == kind)
    )
    _upsert(channel_id, kind, status=READY, storage_key=stored.key, error=None, **fields)
    if old is not None and old.storage_key and old.storage_key != stored.key:
        storage.delete(old.storage_key)
    return ChannelAsset.get((ChannelAsset.channel == channel_id) & (ChannelAsset.kind == kind))


def mark_asset(channel_id: int, kind: str, status: str, error: str | None = None, **fields):
    """Record a code's state (e.g. failed, with the reason the organizer will read)."""
    _upsert(channel_id, kind, status=status, error=error, **fields)


def _upsert(channel_id: int, kind: str, **values) -> None:
    """One statement, so two workers never trip over each other (a read-then-write
    transaction fails at once on SQLite when another connection wrote in between)."""
    values["updated_at"] = utcnow()
    update = {getattr(ChannelAsset, name): value for name, value in values.items()}
    ChannelAsset.insert(channel=channel_id, kind=kind, **values).on_conflict(
        conflict_target=[ChannelAsset.channel, ChannelAsset.kind], update=update
    ).execute()


def open_asset(asset: ChannelAsset, storage: Storage):
    """A binary stream of the asset's file, or None if it is not there."""
    if not asset.storage_key:
        return None
    try:
        return storage.open(asset.storage_key)
    except StorageError:
        return None


def mime_of(storage_key: str) -> str:
    return MIME_BY_EXTENSION.get(storage_key.rsplit(".", 1)[-1], "application/octet-stream")


def mp_qr_budget() -> int:
    """How many permanent QR codes this service may create on the official account."""
    return current_settings().wechat_mp_qr_budget


def mp_qr_usage() -> dict:
    """Permanent official-account QR codes created so far, against the budget, with a warning."""
    used = (
        ChannelAsset.select()
        .where((ChannelAsset.kind == "mp") & ChannelAsset.ticket.is_null(False))
        .count()
    )
    budget = mp_qr_budget()
    warning = None
    if used >= budget:
        warning = "公众号永久二维码已用完，新渠道将不再生成公众号二维码"
    elif used >= budget * MP_QR_WARN_SHARE:
        warning = f"公众号永久二维码已使用 {used}/{budget}，接近上限（每个公众号终身 10 万个）"
    return {"used": used, "budget": budget, "remaining": max(budget - used, 0), "warning": warning}
