"""`campaign.entries.evidence`: types by magic bytes, image safety, names, links, headers.

The sample builders at the top are shared with `test_attachments_api.py`.
"""

import io
import struct
import threading
import warnings
import zlib

import pytest
from PIL import ExifTags, Image

from api.files import content_disposition
from campaign.entries import evidence
from campaign.entries.evidence import EvidenceRefused

LIMITS = {"max_count": 20, "max_mb": 20}

# --- Samples -------------------------------------------------------------------------------


def image_bytes(fmt="JPEG", size=(64, 48), color="red", **options) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt, **options)
    return out.getvalue()


def jpeg_with_gps(size=(40, 20), orientation=6) -> bytes:
    """A phone photo: GPS position, an orientation tag, a camera comment."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (26.0, 4.0, 48.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (119.0, 17.0, 46.0)
    return image_bytes(size=size, exif=exif, comment=b"taken at home")


def png_declaring(width: int, height: int) -> bytes:
    """A 1x1 PNG whose header claims `width` x `height` (CRC fixed): a pixel bomb."""
    data = bytearray(image_bytes("PNG", (1, 1)))
    chunk = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:29] = chunk
    data[29:33] = struct.pack(">I", zlib.crc32(chunk))
    return bytes(data)


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def ftyp(brand: bytes = b"isom") -> bytes:
    return box(b"ftyp", brand + b"\x00\x00\x02\x00" + brand + b"mp41")


def mp4_bytes(brand: bytes = b"isom") -> bytes:
    """The top-level structure of an MP4/MOV: ftyp, moov, mdat."""
    return ftyp(brand) + box(b"moov", box(b"mvhd", b"\x00" * 100)) + box(b"mdat", b"\x00" * 2000)


def pdf_bytes() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def inspect(kind, content, limits=LIMITS):
    """`(prepared, the bytes that would be stored)`."""
    prepared = evidence.inspect_file(kind, io.BytesIO(content), limits)
    with prepared.stream:
        return prepared, prepared.stream.read()


def refusal(kind, content, limits=LIMITS) -> str:
    with pytest.raises(EvidenceRefused) as caught:
        inspect(kind, content, limits)
    return caught.value.code


# --- Types ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (image_bytes("JPEG"), "jpeg"),
        (image_bytes("PNG"), "png"),
        (image_bytes("WEBP"), "webp"),
        (mp4_bytes(b"isom"), "mp4"),
        (mp4_bytes(b"mp42"), "mp4"),
        (mp4_bytes(b"qt  "), "mov"),
        (pdf_bytes(), "pdf"),
        (mp4_bytes(b"heic"), None),  # an iPhone photo in the same container
        (image_bytes("GIF"), None),
        (SVG, None),
        (HTML, None),
        (b"PK\x03\x04docx", None),
        (b"", None),
    ],
    ids=[
        "jpeg",
        "png",
        "webp",
        "mp4",
        "mp42",
        "mov",
        "pdf",
        "heic",
        "gif",
        "svg",
        "html",
        "zip",
        "empty",
    ],
)
def test_sniff_goes_by_the_first_bytes(content, expected):
    assert evidence.sniff(content[:16]) == expected


@pytest.mark.parametrize(
    ("kind", "content", "mime"),
    [
        ("photo", image_bytes("JPEG"), "image/jpeg"),
        ("photo", image_bytes("PNG"), "image/png"),
        ("photo", image_bytes("WEBP"), "image/webp"),
        ("video", mp4_bytes(), "video/mp4"),
        ("video", mp4_bytes(b"qt  "), "video/quicktime"),
        ("document", pdf_bytes(), "application/pdf"),
        ("press", pdf_bytes(), "application/pdf"),
        ("press", image_bytes("PNG"), "image/png"),
    ],
    ids=["jpeg", "png", "webp", "mp4", "mov", "pdf", "press-pdf", "press-png"],
)
def test_each_kind_accepts_its_types(kind, content, mime):
    assert inspect(kind, content)[0].type.mime == mime


@pytest.mark.parametrize(
    ("kind", "content", "code"),
    [
        ("photo", pdf_bytes(), "type_mismatch"),
        ("video", image_bytes("PNG"), "type_mismatch"),
        ("document", image_bytes("JPEG"), "type_mismatch"),
        ("press", mp4_bytes(), "type_mismatch"),
        ("photo", SVG, "unsupported_type"),
        ("photo", HTML, "unsupported_type"),
        ("photo", image_bytes("GIF"), "unsupported_type"),
        ("video", mp4_bytes(b"heic"), "unsupported_type"),
        ("photo", b"", "empty_file"),
    ],
    ids=[
        "pdf-as-photo",
        "png-as-video",
        "jpeg-as-document",
        "mp4-as-press",
        "svg",
        "html",
        "gif",
        "heic",
        "empty",
    ],
)
def test_wrong_types_are_refused(kind, content, code):
    assert refusal(kind, content) == code


def test_type_mismatch_says_what_the_file_is():
    with pytest.raises(EvidenceRefused) as caught:
        inspect("photo", pdf_bytes())
    assert caught.value.message == "文件内容是PDF 文档，与所选类别“图片”不符"
    assert caught.value.as_problem()["mime"] == "application/pdf"


def test_size_is_checked_against_the_kind_limit_before_parsing():
    content = b"\xff\xd8\xff" + b"\x00" * (1024 * 1024)  # not even a valid JPEG
    with pytest.raises(EvidenceRefused) as caught:
        inspect("photo", content, {"max_count": 1, "max_mb": 1})
    assert caught.value.code == "too_large"
    assert caught.value.message == "图片不能超过 1MB"


def test_kind_limits_come_from_the_campaign_with_defaults():
    class Campaign:
        limits = {"evidence": {"photo": {"max_count": 2}}}

    assert evidence.kind_limits(Campaign, "photo") == {"max_count": 2, "max_mb": 20}
    assert evidence.kind_limits(Campaign, "video") == {"max_count": 3, "max_mb": 200}


# --- Structure -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        mp4_bytes()[:-500],  # cut off inside mdat
        mp4_bytes()[:40],  # cut off inside moov
        ftyp() + box(b"mdat", b"\x00" * 10),  # no moov
        ftyp() + struct.pack(">I", 3) + b"moov",  # a box smaller than its header
        ftyp() + struct.pack(">I", 1) + b"moov\x00",  # a 64-bit size cut short
    ],
)
def test_broken_videos_are_corrupt(content):
    assert refusal("video", content) == "corrupt_file"


def test_a_video_with_a_64_bit_box_is_fine():
    large = struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", 16 + 10) + b"\x00" * 10
    content = ftyp() + box(b"moov") + large
    assert inspect("video", content)[0].type.extension == "mp4"


def test_a_cut_off_pdf_is_corrupt():
    assert refusal("document", pdf_bytes()[:60]) == "corrupt_file"


# --- Images --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height"),
    [(20_000, 20_000), (10_000, 10_000), (8_500, 8_500)],
    ids=["400Mpx-pillow-error", "100Mpx-pillow-warning", "72Mpx-our-limit"],
)
def test_pixel_bombs_are_refused_without_decoding(width, height):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # production's filters, not pytest's "error"
        before = list(warnings.filters)
        assert refusal("photo", png_declaring(width, height)) == "image_too_large"
        assert warnings.filters == before, "the process-wide warnings filter was changed"


def test_the_bomb_sample_is_otherwise_readable():
    # Guards the test above: the only thing wrong with the bomb is its declared size.
    assert inspect("photo", png_declaring(1, 1))[0].width == 1


def test_a_truncated_jpeg_is_corrupt():
    content = image_bytes(size=(400, 300), color="blue")
    assert refusal("photo", content[: len(content) // 2]) == "corrupt_file"


def test_photos_are_stored_upright_without_exif_gps_or_comments():
    original = Image.open(io.BytesIO(jpeg_with_gps()))
    assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the sample does carry GPS
    prepared, stored = inspect("photo", jpeg_with_gps(size=(40, 20), orientation=6))
    image = Image.open(io.BytesIO(stored))
    assert (prepared.width, prepared.height) == image.size == (20, 40)  # turned by EXIF
    assert not image.getexif()
    assert "exif" not in image.info and "comment" not in image.info
    assert b"Exif" not in stored and b"PhoneMaker" not in stored and b"taken at home" not in stored


def test_png_and_webp_lose_their_metadata_too():
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    for fmt in ("PNG", "WEBP"):
        content = image_bytes(fmt, exif=exif)
        assert b"PhoneMaker" in content
        stored = inspect("photo", content)[1]
        assert b"PhoneMaker" not in stored
        assert Image.open(io.BytesIO(stored)).format == fmt


def test_large_photos_are_downscaled_to_the_long_edge():
    prepared, _ = inspect("photo", image_bytes("PNG", size=(5000, 100)))
    assert (prepared.width, prepared.height) == (evidence.MAX_EDGE, 82)


def test_thumbnails_are_small_jpegs_flattened_on_white():
    rgba = io.BytesIO()
    Image.new("RGBA", (1000, 500), (0, 0, 0, 0)).save(rgba, "PNG")
    thumb = Image.open(evidence.render_thumbnail(io.BytesIO(rgba.getvalue()), "PNG", 480))
    assert thumb.format == "JPEG" and thumb.size == (480, 240)
    assert thumb.getpixel((10, 10)) == (255, 255, 255)


# --- Names, links, headers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("案例材料.jpg", "案例材料.jpg"),
        ("../../x", "x"),
        ("C:\\Users\\me\\证明 (1).JPG", "证明 (1).JPG"),
        ("a\x00b\r\nc.png", "abc.png"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),  # right-to-left override removed
        ("  spaced   out  .pdf ", "spaced out .pdf"),
        ("..", ""),
        (None, ""),
    ],
)
def test_clean_name(raw, expected):
    assert evidence.clean_name(raw) == expected


def test_long_names_keep_their_extension():
    name = evidence.clean_name("长" * 300 + ".pdf")
    assert len(name) == evidence.MAX_NAME and name.endswith(".pdf")


@pytest.mark.parametrize(
    "link",
    [
        "https://v.qq.com/x/page/a0000abcd.html",
        "http://www.fjdj.gov.cn/news/2021/案例.html",
        "https://www.bilibili.com/video/BV1xx411c7mD?p=2",
    ],
)
def test_good_links(link):
    assert evidence.check_link(f"  {link} ") == link


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "ftp://example.com/a.mp4",
        "https://",
        "http://localhost/a",
        "http://127.0.0.1/a",
        "http://[::1]/a",
        "http://intranet/a",
        "https://user:pass@example.com/",
        "https://example.com:99999/",
        "https://example.com/a b",
        "https://example.com/\u202e",
        "https://example.com/" + "a" * 1100,
        "",
        42,
    ],
)
def test_bad_links(link):
    with pytest.raises(EvidenceRefused) as caught:
        evidence.check_link(link)
    assert caught.value.code == "bad_link" and caught.value.field == "link"


def test_content_disposition_is_rfc_6266():
    header = content_disposition("案例 材料.jpg", "evidence-7.jpg")
    assert header == (
        "attachment; filename=\"evidence-7.jpg\"; filename*=UTF-8''"
        "%E6%A1%88%E4%BE%8B%20%E6%9D%90%E6%96%99.jpg"
    )
    assert content_disposition('a"b.pdf', "x.pdf").startswith('attachment; filename="a_b.pdf"')


@pytest.mark.parametrize(
    ("original", "mime", "expected"),
    [
        ("x", "image/jpeg", "x.jpg"),
        ("现场.JPEG", "image/jpeg", "现场.JPEG"),
        ("jpg", "image/jpeg", "jpg.jpg"),
        ("a.jpg", "image/png", "a.jpg.png"),  # the name lied; the bytes decide
        ("", "image/jpeg", "图片-7.jpg"),
    ],
)
def test_download_names_carry_the_real_extension(original, mime, expected):
    from models import Attachment

    attachment = Attachment(id=7, kind="photo", original_name=original, mime=mime)
    assert evidence.download_name(attachment) == expected
    assert evidence.fallback_name(attachment) == f"evidence-7.{evidence.BY_MIME[mime].extension}"


def test_every_code_has_a_chinese_message():
    for code in evidence.MESSAGES:
        refused = EvidenceRefused(
            code, kind="photo", max_mb=1, max_count=1, detected="PDF 文档", max_wan_pixels=1
        )
        assert refused.message and not refused.message.isascii(), code


# --- Keeping -------------------------------------------------------------------------------


def test_racing_uploads_cannot_pass_the_count_limit(campaign):
    from models import Entry, Unit, WechatUser, db

    user = WechatUser.create(app="wxa", openid="o-race")
    unit = Unit.create(campaign=campaign, owner=user, name="某党支部")
    entry = Entry.create(campaign=campaign, unit=unit, owner=user, route="online")
    start, outcomes = threading.Barrier(6), []

    def add(number: int) -> None:
        with db.connection_context():
            start.wait()
            try:
                link = f"https://v.qq.com/x/{number}.html"
                outcomes.append(evidence.add_link(entry, "video", link, "", "test")[1])
            except EvidenceRefused as refused:
                outcomes.append(refused.code)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == [True] * 3 + ["too_many"] * 3  # the plan: 3 videos
