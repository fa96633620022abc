"""Evidence of an entry (图片、影像资料、媒体报道资料): what may be uploaded, and how it is kept.

A file's type is what its first bytes say, never its name or the client's Content-Type.
Images are decoded under a pixel cap with an allow-list of parsers, then re-encoded without
EXIF, GPS, XMP or comments: the stored copy is the only copy, so nothing served to anyone
can leak where a photo was taken (no original is kept; see docs/evidence.md). Videos and
PDFs are checked for structure, not decoded here. A video or a press report may instead be
a link. Every refusal is an `EvidenceRefused` with a stable code and a Chinese message.
"""

import datetime
import io
import ipaddress
import re
import struct
import tempfile
import unicodedata
import warnings
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urlsplit

from PIL import Image, ImageOps

from campaign.audit import record
from models import Attachment, Entry, db
from storage import Storage

KINDS = ("photo", "video", "document", "press")
LINK_KINDS = ("video", "press")
KIND_LABELS = {"photo": "图片", "video": "视频", "document": "文档", "press": "媒体报道"}

# Used where a campaign's `limits.evidence` says nothing about a kind (the 2021 plan's values).
DEFAULT_LIMITS = {
    "photo": {"max_count": 20, "max_mb": 20},
    "video": {"max_count": 3, "max_mb": 200},
    "document": {"max_count": 5, "max_mb": 20},
    "press": {"max_count": 10, "max_mb": 20},
}
MB = 1024 * 1024
# Decided from the header, before a pixel is decoded (issue 11). A PNG or WebP of flat colour
# compresses a thousandfold, so its cap is what the service keeps anyway (4096²: screenshots,
# graphics); JPEG photos may come from a 50 Mpx phone camera. Decoded bytes (pixels × bands ×
# bytes per band) are capped too, so a CMYK or 16-bit file cannot exceed the budget.
MAX_PIXELS = {"JPEG": 50_000_000, "PNG": 16_777_216, "WEBP": 16_777_216}
MAX_DECODED_BYTES = 200 * 1024 * 1024
BYTES_PER_BAND = {"I;16": 2, "I;16B": 2, "I;16L": 2, "I": 4, "F": 4}
MAX_EDGE = 4096  # stored images are downscaled to this long edge
MAX_NAME = 200
MAX_LINK = 1024
MAX_BOXES = 10_000


@dataclass(frozen=True)
class FileType:
    """One accepted file type: its MIME type, our extension, and its Pillow parser if any."""

    mime: str
    extension: str
    label: str
    image_format: str | None = None
    suffixes: tuple[str, ...] = ()


TYPES = {
    "jpeg": FileType("image/jpeg", "jpg", "JPEG 图片", "JPEG", ("jpg", "jpeg")),
    "png": FileType("image/png", "png", "PNG 图片", "PNG", ("png",)),
    "webp": FileType("image/webp", "webp", "WebP 图片", "WEBP", ("webp",)),
    "mp4": FileType("video/mp4", "mp4", "MP4 视频", None, ("mp4", "m4v")),
    "mov": FileType("video/quicktime", "mov", "MOV 视频", None, ("mov",)),
    "pdf": FileType("application/pdf", "pdf", "PDF 文档", None, ("pdf",)),
}
BY_MIME = {file_type.mime: file_type for file_type in TYPES.values()}
ACCEPTS = {
    "photo": ("jpeg", "png", "webp"),
    "video": ("mp4", "mov"),
    "document": ("pdf",),
    "press": ("pdf", "jpeg", "png", "webp"),
}
# ISO base media major brands of ordinary video files (phones, cameras, editors, WeChat).
# HEIC/AVIF images share the container but carry other brands (heic, mif1, avif): refused.
MP4_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1",
    b"M4V ", b"M4VP", b"MSNV", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"dash", b"mmp4",
}  # fmt: skip
MOV_BRAND = b"qt  "

MESSAGES = {
    "bad_kind": "请选择材料类别：图片、视频、文档或媒体报道",
    "missing_file": "请选择要上传的文件",
    "file_and_link": "请上传文件或填写链接，二者选其一",
    "link_not_allowed": "{kind}须上传文件，不能只填写链接",
    "empty_file": "文件是空的，请重新选择",
    "too_large": "{kind}不能超过 {max_mb}MB",
    "too_many": "{kind}最多上传 {max_count} 个",
    "unsupported_type": (
        "不支持该文件格式：图片请用 JPG、PNG 或 WebP，视频请用 MP4 或 MOV，文档请用 PDF"
    ),
    "type_mismatch": "文件内容是{detected}，与所选类别“{kind}”不符",
    "image_too_large": "图片像素过大（不能超过 {max_wan_pixels} 万像素），请缩小后再上传",
    "corrupt_file": "文件已损坏或不完整，请重新导出后上传",
    "bad_link": "链接无效，请填写以 http:// 或 https:// 开头的完整网址",
    "too_long": "内容过长",
}


class EvidenceRefused(Exception):
    """An upload or link that is not accepted; `code` is stable, `message` is for the user."""

    def __init__(self, code: str, field: str = "file", kind: str | None = None, **details):
        super().__init__(code)
        self.code = code
        self.field = field
        self.details = details
        self.message = MESSAGES[code].format(kind=KIND_LABELS.get(kind or "", ""), **details)

    def as_problem(self) -> dict:
        """The `fields` entry of the API's error body."""
        return {"field": self.field, "code": self.code, "message": self.message, **self.details}


@dataclass
class Prepared:
    """A checked file, ready to store: the bytes to keep (maybe re-encoded) and their facts."""

    type: FileType
    stream: BinaryIO
    width: int | None = None
    height: int | None = None


# --- Rules ---------------------------------------------------------------------------------


def check_kind(kind) -> str:
    if kind not in KINDS:
        raise EvidenceRefused("bad_kind", field="kind")
    return kind


def kind_limits(campaign, kind: str) -> dict:
    """`{"max_count", "max_mb"}` of `kind`: the campaign's `limits.evidence`, else defaults."""
    configured = ((campaign.limits or {}).get("evidence") or {}).get(kind) or {}
    return {**DEFAULT_LIMITS[kind], **configured}


def sniff(head: bytes) -> str | None:
    """The type the first bytes announce (a key of `TYPES`), or None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == MOV_BRAND:
            return "mov"
        if brand in MP4_BRANDS:
            return "mp4"
    return None


def clean_name(raw) -> str:
    """A client's file name fit to keep and show: last path part, no control characters."""
    if not isinstance(raw, str):
        return ""
    name = unicodedata.normalize("NFC", raw)
    name = re.split(r"[/\\]", name)[-1]
    # Cc: control; Cf: format (zero-width, right-to-left overrides that disguise "gpj.exe").
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    name = " ".join(name.split()).strip(" .")
    if len(name) <= MAX_NAME:
        return name
    stem, dot, suffix = name.rpartition(".")
    if dot and 0 < len(suffix) <= 10:
        return stem[: MAX_NAME - len(suffix) - 1] + "." + suffix
    return name[:MAX_NAME]


def check_link(raw) -> str:
    """A public http(s) web address, or `bad_link`. It is shown to people, never fetched here."""
    link = raw.strip() if isinstance(raw, str) else ""
    if not link or len(link) > MAX_LINK:
        raise EvidenceRefused("bad_link", field="link")
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in link):
        raise EvidenceRefused("bad_link", field="link")
    try:
        parts = urlsplit(link)
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError:
        raise EvidenceRefused("bad_link", field="link") from None
    host = parts.hostname or ""
    if parts.scheme.lower() not in ("http", "https") or parts.username or parts.password:
        raise EvidenceRefused("bad_link", field="link")
    if "." not in host.strip(".") or _is_ip(host):
        raise EvidenceRefused("bad_link", field="link")  # localhost, intranet names, raw IPs
    return link


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def inspect_file(kind: str, stream: BinaryIO, limits: dict) -> Prepared:
    """Check an uploaded file against `kind` and its limits; images come back re-encoded."""
    size = _size(stream)
    if size == 0:
        raise EvidenceRefused("empty_file", kind=kind)
    if size > limits["max_mb"] * MB:
        raise EvidenceRefused("too_large", kind=kind, max_mb=limits["max_mb"], size=size)
    found = sniff(stream.read(16))
    if found is None:
        raise EvidenceRefused("unsupported_type", kind=kind)
    if found not in ACCEPTS[kind]:
        raise EvidenceRefused(
            "type_mismatch", kind=kind, detected=TYPES[found].label, mime=TYPES[found].mime
        )
    file_type = TYPES[found]
    if file_type.image_format:
        return clean_image(stream, file_type)
    if found in ("mp4", "mov"):
        _check_boxes(stream, size)
    else:
        _check_pdf(stream, size)
    stream.seek(0)
    return Prepared(file_type, stream)


def _size(stream: BinaryIO) -> int:
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def _check_boxes(stream: BinaryIO, size: int) -> None:
    """The top-level boxes of an MP4/MOV must tile the file exactly and include `moov`."""
    offset, seen = 0, []
    while offset < size:
        stream.seek(offset)
        header = stream.read(8)
        if len(header) < 8 or len(seen) >= MAX_BOXES:
            raise EvidenceRefused("corrupt_file")
        box_size, box_type = struct.unpack(">I4s", header)
        minimum = 8
        if box_size == 1:  # 64-bit size follows
            large = stream.read(8)
            if len(large) < 8:
                raise EvidenceRefused("corrupt_file")
            box_size, minimum = struct.unpack(">Q", large)[0], 16
        elif box_size == 0:  # extends to the end of the file
            box_size = size - offset
        if box_size < minimum or offset + box_size > size:
            raise EvidenceRefused("corrupt_file")
        seen.append(box_type)
        offset += box_size
    if seen[0] != b"ftyp" or b"moov" not in seen:
        raise EvidenceRefused("corrupt_file")


def _check_pdf(stream: BinaryIO, size: int) -> None:
    """A PDF ends with `%%EOF` (within its last 1 KB, as readers allow); a cut-off one does not."""
    stream.seek(max(0, size - 1024))
    if b"%%EOF" not in stream.read():
        raise EvidenceRefused("corrupt_file")


# --- Images --------------------------------------------------------------------------------


def open_image(stream: BinaryIO, image_format: str, shrink_to: int | None = None) -> Image.Image:
    """Decode an image safely: one allowed parser, pixel and decoded-size caps read from the
    header, bomb warnings as errors. With `shrink_to` (the long edge the caller will keep), a
    JPEG is decoded at the smallest DCT scale (1/2, 1/4, 1/8) still about that size: a
    quarter of the memory for a 50 Mpx photo, a sixty-fourth for a thumbnail.

    Raises `image_too_large` or `corrupt_file`; never anything else.
    """
    stream.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow only warns between 1× and 2× its own limit: make that band fail too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(stream, formats=[image_format])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large(image_format) from None
    except Exception:  # hostile bytes make parsers raise anything: OSError, SyntaxError, …
        raise EvidenceRefused("corrupt_file") from None
    if not fits_budget(image, image_format):  # the header's word, before a pixel is decoded
        image.close()
        raise _too_large(image_format)
    try:
        if shrink_to and image_format == "JPEG":
            image.draft(image.mode, _draft_size(image.size, shrink_to))
        image.load()
    except Exception:  # truncated or malformed data
        image.close()
        raise EvidenceRefused("corrupt_file") from None
    return image


def _draft_size(size: tuple[int, int], edge: int) -> tuple[int, int]:
    """The size a JPEG may be decoded at to end near `edge` on its long side: 5 % under it,
    so that an 8160×6120 photo decodes at half scale (4080 px) instead of full."""
    scale = min(1.0, edge * 0.95 / max(size))
    return max(1, int(size[0] * scale)), max(1, int(size[1] * scale))


def fits_budget(image: Image.Image, image_format: str) -> bool:
    """Whether the header's size and mode stay under the caps of MAX_PIXELS and
    MAX_DECODED_BYTES (nothing is decoded to answer)."""
    pixels = image.width * image.height
    decoded = pixels * len(image.getbands()) * BYTES_PER_BAND.get(image.mode, 1)
    return pixels <= MAX_PIXELS.get(image_format, 0) and decoded <= MAX_DECODED_BYTES


def _too_large(image_format: str) -> EvidenceRefused:
    return EvidenceRefused(
        "image_too_large", max_wan_pixels=MAX_PIXELS.get(image_format, 0) // 10_000
    )


def clean_image(stream: BinaryIO, file_type: FileType) -> Prepared:
    """Re-encode an image upright, at most MAX_EDGE px, with no metadata but its colour profile.

    Everything happens in place on the one decoded copy (turned, then shrunk), so the peak
    memory is the decoded image plus its shrunk copy (tests/hostile/test_hostile_pixels.py).
    """
    options = {"quality": 90} if file_type.image_format in ("JPEG", "WEBP") else {}
    with open_image(stream, file_type.image_format, shrink_to=MAX_EDGE) as image:
        _upright(image)
        keep = ("icc_profile", "transparency")
        out = tempfile.SpooledTemporaryFile(max_size=8 * MB)
        try:
            image.thumbnail((MAX_EDGE, MAX_EDGE), Image.Resampling.LANCZOS)
            image.info = {k: v for k, v in image.info.items() if k in keep}
            image.save(out, format=file_type.image_format, **options)
        except Exception:  # e.g. a mode JPEG cannot hold; the input was not a usable photo
            out.close()
            raise EvidenceRefused("corrupt_file") from None
        width, height = image.size
    out.seek(0)
    return Prepared(file_type, out, width=width, height=height)


def _upright(image: Image.Image) -> None:
    """Turn the image as the camera meant it (EXIF orientation), since the EXIF is dropped."""
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except Exception:  # a broken EXIF block must not cost a good photo
        pass


def render_thumbnail(stream: BinaryIO, image_format: str, edge: int) -> BinaryIO:
    """A JPEG of at most `edge` px on its long side, on white where the image is transparent."""
    with open_image(stream, image_format, shrink_to=edge) as image:
        image.thumbnail((edge, edge), Image.Resampling.LANCZOS)
        if image.mode in ("RGBA", "LA", "P"):
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", image.size, "white")
            flat.paste(rgba, mask=rgba.getchannel("A"))
        else:
            flat = image.convert("RGB")
    out = io.BytesIO()
    flat.save(out, format="JPEG", quality=80)
    out.seek(0)
    return out


# --- Keeping evidence ---------------------------------------------------------------------


def add_file(
    entry: Entry,
    kind: str,
    stream: BinaryIO,
    name: str,
    storage: Storage,
    actor: str,
) -> tuple[Attachment, bool]:
    """Check, store and record a file; `(attachment, created)`.

    The same bytes sent again for the same entry and kind (a retried upload from a flaky
    phone) return the first attachment with `created=False` instead of a second copy.
    """
    limits = kind_limits(entry.campaign, check_kind(kind))
    _refuse_when_full(entry, kind, limits)
    prepared = inspect_file(kind, stream, limits)
    try:
        stored = storage.save(prepared.stream, prepared.type.extension)
    finally:
        if prepared.stream is not stream:
            prepared.stream.close()
    values = dict(
        original_name=clean_name(name),
        storage_key=stored.key,
        mime=prepared.type.mime,
        size=stored.size,
        sha256=stored.sha256,
        width=prepared.width,
        height=prepared.height,
    )
    try:
        attachment, created = _record(entry, kind, limits, actor, values)
    except BaseException:
        storage.delete(stored.key)
        raise
    if not created:
        storage.delete(stored.key)
    return attachment, created


def add_link(entry: Entry, kind: str, link, title, actor: str) -> tuple[Attachment, bool]:
    """Record a link to a video platform or a press report; `(attachment, created)`."""
    limits = kind_limits(entry.campaign, check_kind(kind))
    if kind not in LINK_KINDS:
        raise EvidenceRefused("link_not_allowed", field="link", kind=kind)
    link = check_link(link)
    name = clean_name(title) or (urlsplit(link).hostname or "")
    values = dict(original_name=name, link=link, check_status="pending")
    return _record(entry, kind, limits, actor, values)


def _refuse_when_full(entry: Entry, kind: str, limits: dict) -> None:
    have = Attachment.select().where((Attachment.entry == entry) & (Attachment.kind == kind))
    if have.count() >= limits["max_count"]:
        raise EvidenceRefused("too_many", kind=kind, max_count=limits["max_count"])


def _record(entry: Entry, kind: str, limits: dict, actor: str, values: dict):
    """Insert the row unless it repeats one; the count is checked under the entry's lock."""
    with db.atomic():
        # A no-op update takes the entry's row lock (PostgreSQL) or the write lock (SQLite),
        # so two uploads racing for the last free place cannot both get it.
        Entry.update(version=Entry.version).where(Entry.id == entry.id).execute()
        same = Attachment.entry == entry
        same &= Attachment.kind == kind
        same &= (
            (Attachment.sha256 == values["sha256"])
            if "sha256" in values
            else (Attachment.link == values["link"])
        )
        existing = Attachment.get_or_none(same)
        if existing is not None:
            return existing, False
        _refuse_when_full(entry, kind, limits)
        attachment = Attachment.create(entry=entry, kind=kind, **values)
        after = {"kind": kind, **{k: values.get(k) for k in ("original_name", "sha256", "link")}}
        record(actor, "attachment.create", attachment, None, after, entry.campaign_id)
    return attachment, True


def remove(attachment: Attachment, storage: Storage, actor: str) -> None:
    """Delete the row (with an audit row), then its files."""
    keys = stored_keys([attachment])
    with db.atomic():
        before = {"kind": attachment.kind, "original_name": attachment.original_name}
        before.update(sha256=attachment.sha256, link=attachment.link)
        record(actor, "attachment.delete", attachment, before, None, attachment.entry.campaign_id)
        attachment.delete_instance()
    discard(storage, keys)


def stored_keys(attachments) -> list[str]:
    """Every storage key the attachments use (files and thumbnails)."""
    return [key for a in attachments for key in (a.storage_key, a.thumb_key) if key]


def discard(storage: Storage, keys) -> None:
    """Delete files whose rows are gone (after the commit: a rollback must find them intact)."""
    for key in keys:
        storage.delete(key)


# --- Serving -------------------------------------------------------------------------------


def download_name(attachment: Attachment) -> str:
    """The name a download is saved under: the kept name, with the real type's extension."""
    name = attachment.original_name or f"{KIND_LABELS.get(attachment.kind, '材料')}-{attachment.id}"
    file_type = BY_MIME.get(attachment.mime)
    stem, dot, suffix = name.rpartition(".")
    if file_type and not (stem and dot and suffix.lower() in file_type.suffixes):
        name = f"{name}.{file_type.extension}"
    return name


def fallback_name(attachment: Attachment) -> str:
    """An ASCII name for clients that ignore `filename*`."""
    file_type = BY_MIME.get(attachment.mime)
    return f"evidence-{attachment.id}" + (f".{file_type.extension}" if file_type else "")


# --- WeChat's image checks ------------------------------------------------------------------

CHECKABLE_KINDS = ("photo", "press")
MEDIA_CHECK_PATIENCE = datetime.timedelta(minutes=45)


def images_to_check(entry: Entry) -> list[Attachment]:
    """Images of the entry that WeChat has not judged yet."""
    return [
        a
        for a in entry.attachments
        if a.kind in CHECKABLE_KINDS
        and a.check_status in ("pending", "error")
        and BY_MIME.get(a.mime) is not None
        and BY_MIME[a.mime].image_format is not None
    ]


def mark_unreviewable(entry: Entry) -> int:
    """Videos, PDFs and links have no WeChat check: an organizer looks at them (`manual`)."""
    checkable = [a.id for a in images_to_check(entry)]
    return (
        Attachment.update(check_status="manual")
        .where(
            (Attachment.entry == entry)
            & (Attachment.check_status == "pending")
            & Attachment.id.not_in(checkable or [0])
        )
        .execute()
    )


def record_media_verdict(trace_id: str, suggest: str) -> bool:
    """Store WeChat's verdict on an image (pass | review | risky); False if unknown."""
    verdict = suggest if suggest in ("pass", "review", "risky") else "review"
    updated = (
        Attachment.update(check_status=verdict)
        .where((Attachment.trace_id == trace_id) & (Attachment.check_status == "checking"))
        .execute()
    )
    return bool(updated)


def flag_silent_checks(now: datetime.datetime) -> int:
    """Checks WeChat never answered within 45 minutes become `timeout`, for an organizer."""
    return (
        Attachment.update(check_status="timeout")
        .where(
            (Attachment.check_status == "checking")
            & (Attachment.check_started_at < now - MEDIA_CHECK_PATIENCE)
        )
        .execute()
    )
