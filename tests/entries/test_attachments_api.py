"""Evidence through the HTTP API: the happy paths and the upload gauntlet (RELIABILITY T6)."""

import datetime
import hashlib
import io
import os
import re

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

import storage
from campaign.sessions import issue_token
from models import Attachment, AuditLog, Campaign, Entry, Unit, WechatUser, utcnow
from storage import LocalStorage
from tasks.queue import get_queue
from tests.entries.test_evidence import (
    HTML,
    SVG,
    image_bytes,
    jpeg_with_gps,
    mp4_bytes,
    pdf_bytes,
    png_declaring,
)

KEY = re.compile(r"^\d{4}/\d{2}/[0-9a-f]{32}\.(jpg|png|webp|mp4|mov|pdf)$")


@pytest.fixture
def api(app):
    return app.test_client()


@pytest.fixture(autouse=True)
def store(tmp_path, monkeypatch):
    """A storage folder of this test's own, so leftovers can be counted."""
    local = LocalStorage(tmp_path / "storage")
    monkeypatch.setattr(storage, "_storage", local)
    return local


class Owner:
    """A logged-in unit contact with one draft entry, talking through Flask's client."""

    def __init__(self, client, campaign, openid):
        self.client = client
        self.user = WechatUser.create(app="wxa", openid=openid)
        unit = Unit.create(campaign=campaign, owner=self.user, name="某村党支部")
        self.entry = Entry.create(campaign=campaign, unit=unit, owner=self.user, route="online")
        self.token, _ = issue_token(self.user)
        self.base = f"/api/v1/entries/{self.entry.id}/attachments"

    def call(self, method, path="", **kwargs):
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return getattr(self.client, method)(self.base + path, headers=headers, **kwargs)

    def upload(self, kind, content, name="file.bin", **fields):
        # Encoded here: the test client spools big bodies to a temp file it never closes.
        form = {"kind": kind, "file": FileStorage(io.BytesIO(content), name), **fields}
        boundary, body = encode_multipart(form)
        content_type = f"multipart/form-data; boundary={boundary}"
        return self.call("post", data=body, content_type=content_type)

    def link(self, kind, link, **fields):
        return self.call("post", json={"kind": kind, "link": link, **fields})


@pytest.fixture
def owner(api, open_window):
    return Owner(api, open_window, "o-owner")


def files_in(store) -> list[str]:
    if not store.root.exists():
        return []
    return sorted(
        p.relative_to(store.root).as_posix() for p in store.root.rglob("*") if p.is_file()
    )


def queued() -> list[str]:
    """What waits in the default queue."""
    return [job.func_name for job in get_queue("default").get_jobs()]


def error_of(response) -> tuple[int, str]:
    body = response.get_json()
    assert response.is_json and set(body) == {"error"}, body
    return response.status_code, body["error"]["code"]


# --- Happy paths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "content", "name", "mime"),
    [
        ("photo", image_bytes("JPEG", (800, 600)), "现场.jpg", "image/jpeg"),
        ("photo", image_bytes("PNG"), "a.png", "image/png"),
        ("photo", image_bytes("WEBP"), "a.webp", "image/webp"),
        ("video", mp4_bytes(), "活动.mp4", "video/mp4"),
        ("video", mp4_bytes(b"qt  "), "IMG_0001.MOV", "video/quicktime"),
        ("document", pdf_bytes(), "经验材料.pdf", "application/pdf"),
        ("press", pdf_bytes(), "福建日报.pdf", "application/pdf"),
        ("press", image_bytes("PNG"), "截图.png", "image/png"),
    ],
    ids=["jpeg", "png", "webp", "mp4", "mov", "document", "press-pdf", "press-screenshot"],
)
def test_each_kind_is_accepted(owner, store, kind, content, name, mime):
    response = owner.upload(kind, content, name)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    row = Attachment.get_by_id(body["id"])
    assert KEY.match(row.storage_key) and files_in(store) == [row.storage_key]
    stored = (store.root / row.storage_key).read_bytes()
    assert body["kind"] == kind and body["mime"] == mime and body["original_name"] == name
    assert body["size"] == len(stored) and body["sha256"] == hashlib.sha256(stored).hexdigest()
    assert body["check_status"] == "pending" and body["link"] is None
    assert body["url"] == f"{owner.base}/{row.id}/file"
    assert body["created_at"].endswith("+08:00")
    if mime.startswith("image/"):
        assert (body["width"], body["height"]) == Image.open(io.BytesIO(stored)).size
    else:
        assert stored == content and body["width"] is None
    assert AuditLog.get(AuditLog.action == "attachment.create").object_id == str(row.id)


@pytest.mark.parametrize(
    ("kind", "link"),
    [
        ("video", "https://v.qq.com/x/page/a0000abcd.html"),
        ("press", "http://fj.people.com.cn/n2/1.html"),
    ],
)
def test_videos_and_press_reports_may_be_links(owner, store, kind, link):
    response = owner.link(kind, link, title="央视报道")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["link"], body["original_name"], body["url"], body["mime"]) == (
        link,
        "央视报道",
        None,
        None,
    )
    assert files_in(store) == []
    assert owner.call("get", f"/{body['id']}/file").status_code == 404


def test_a_link_may_come_as_a_form_too(owner):
    response = owner.call(
        "post", data={"kind": "video", "link": "https://www.bilibili.com/video/BV1x"}
    )
    assert response.status_code == 201
    assert response.get_json()["original_name"] == "www.bilibili.com"


def test_list_and_delete(owner, store, run_jobs):
    first = owner.upload("photo", image_bytes(color="red"), "1.jpg").get_json()
    second = owner.upload("photo", image_bytes(color="blue"), "2.jpg").get_json()
    run_jobs()  # thumbnails, so deleting must remove them too
    assert len(files_in(store)) == 4
    listed = owner.call("get").get_json()["items"]
    assert [item["id"] for item in listed] == [first["id"], second["id"]]
    assert owner.call("delete", f"/{first['id']}").status_code == 204
    assert [item["id"] for item in owner.call("get").get_json()["items"]] == [second["id"]]
    row = Attachment.get_by_id(second["id"])
    assert files_in(store) == sorted([row.storage_key, row.thumb_key])
    assert AuditLog.get(AuditLog.action == "attachment.delete").object_id == str(first["id"])
    assert owner.call("delete", f"/{first['id']}").status_code == 404


def test_the_same_bytes_twice_are_one_attachment(owner, store):
    content = image_bytes(color="green")
    first = owner.upload("photo", content, "a.jpg")
    again = owner.upload("photo", content, "a.jpg")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert Attachment.select().count() == 1 and len(files_in(store)) == 1


def test_a_photo_gets_a_thumbnail_once(owner, store, run_jobs):
    body = owner.upload("photo", image_bytes("JPEG", (1600, 900)), "big.jpg").get_json()
    assert queued() == ["tasks.evidence.make_thumbnail"]
    run_jobs()
    row = Attachment.get_by_id(body["id"])
    assert KEY.match(row.thumb_key) and row.thumb_key.endswith(".jpg")
    with Image.open(store.root / row.thumb_key) as thumb:
        assert thumb.format == "JPEG" and thumb.size == (480, 270)
    from tasks.evidence import make_thumbnail

    assert make_thumbnail(row.id) == row.thumb_key  # a second run changes nothing
    assert files_in(store) == sorted([row.storage_key, row.thumb_key])


def test_videos_and_documents_get_no_thumbnail_job(owner, run_jobs):
    owner.upload("video", mp4_bytes(), "a.mp4")
    owner.upload("document", pdf_bytes(), "a.pdf")
    assert Attachment.select().count() == 2 and queued() == []


# --- Names and downloads ------------------------------------------------------------------


def test_path_tricks_never_reach_the_disk(owner, store, tmp_path):
    response = owner.upload("photo", image_bytes("PNG"), "../../x")
    assert response.status_code == 201
    row = Attachment.get_by_id(response.get_json()["id"])
    assert row.original_name == "x"
    assert KEY.match(row.storage_key) and files_in(store) == [row.storage_key]
    assert not list(tmp_path.glob("x*")) and not list(tmp_path.parent.glob("x*"))
    download = owner.call("get", f"/{row.id}/file")
    download.close()
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"x.png\"; filename*=UTF-8''x.png"
    )


def test_a_chinese_name_is_kept_and_sent_back_encoded(owner, store):
    content = image_bytes("JPEG", (50, 40))
    response = owner.upload("photo", content, "案例材料.jpg")
    row = Attachment.get_by_id(response.get_json()["id"])
    assert row.original_name == "案例材料.jpg" and "案例" not in row.storage_key
    download = owner.call("get", f"/{row.id}/file")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == (
        f'attachment; filename="evidence-{row.id}.jpg"; '
        "filename*=UTF-8''%E6%A1%88%E4%BE%8B%E6%9D%90%E6%96%99.jpg"
    )
    assert download.headers["Content-Type"] == "image/jpeg"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "private, no-store"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert hashlib.sha256(download.data).hexdigest() == row.sha256
    download.close()


def test_a_phone_photo_is_served_without_its_gps_position(owner, store):
    response = owner.upload("photo", jpeg_with_gps(size=(40, 20)), "IMG_2041.JPG")
    assert response.status_code == 201
    assert (response.get_json()["width"], response.get_json()["height"]) == (20, 40)
    row = Attachment.get_by_id(response.get_json()["id"])
    download = owner.call("get", f"/{row.id}/file")
    served = download.data
    download.close()
    assert served == (store.root / row.storage_key).read_bytes()
    with Image.open(io.BytesIO(served)) as image:
        assert not image.getexif() and "exif" not in image.info
    assert b"Exif" not in served and b"PhoneMaker" not in served


def test_the_title_names_the_file(owner):
    response = owner.upload("photo", image_bytes(), "tmp_9f8e7d.jpg", title="支部主题党日")
    row = Attachment.get_by_id(response.get_json()["id"])
    assert row.original_name == "支部主题党日"
    download = owner.call("get", f"/{row.id}/file")
    assert download.headers["Content-Disposition"].endswith(
        "''%E6%94%AF%E9%83%A8%E4%B8%BB%E9%A2%98%E5%85%9A%E6%97%A5.jpg"
    )
    download.close()


def test_production_hands_the_file_to_nginx(owner, override_settings):
    row_id = owner.upload("document", pdf_bytes(), "报告.pdf").get_json()["id"]
    override_settings(env="production")
    response = owner.call("get", f"/{row_id}/file")
    row = Attachment.get_by_id(row_id)
    assert response.status_code == 200 and response.data == b""
    assert response.headers["X-Accel-Redirect"] == f"/_protected/{row.storage_key}"
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment; ")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- The gauntlet --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "content", "name", "code"),
    [
        ("photo", png_declaring(20_000, 20_000), "bomb.png", "image_too_large"),
        ("photo", png_declaring(10_000, 10_000), "bomb.png", "image_too_large"),
        ("video", image_bytes("PNG"), "clip.mp4", "type_mismatch"),
        ("photo", pdf_bytes(), "photo.jpg", "type_mismatch"),
        ("photo", HTML, "page.jpg", "unsupported_type"),
        ("photo", SVG, "logo.jpg", "unsupported_type"),
        ("press", SVG, "logo.svg", "unsupported_type"),
        ("photo", b"", "empty.jpg", "empty_file"),
        ("photo", image_bytes("JPEG", (400, 300))[:600], "cut.jpg", "corrupt_file"),
        ("video", mp4_bytes()[:-100], "cut.mp4", "corrupt_file"),
        ("document", pdf_bytes()[:50], "cut.pdf", "corrupt_file"),
        ("drawing", image_bytes(), "a.jpg", "bad_kind"),
    ],
    ids=[
        "bomb-400Mpx",
        "bomb-100Mpx",
        "png-as-video",
        "pdf-as-photo",
        "html-as-jpg",
        "svg-as-jpg",
        "svg-as-press",
        "zero-bytes",
        "truncated-jpeg",
        "truncated-mp4",
        "truncated-pdf",
        "unknown-kind",
    ],
)
def test_refused_uploads_leave_nothing_behind(owner, store, kind, content, name, code):
    response = owner.upload(kind, content, name)
    assert error_of(response) == (422, code)
    problem = response.get_json()["error"]["fields"][0]
    assert problem["code"] == code and problem["message"] == response.get_json()["error"]["message"]
    assert not response.get_json()["error"]["message"].isascii()
    assert Attachment.select().count() == 0
    assert files_in(store) == []
    assert queued() == []


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({"kind": "video", "link": "javascript:alert(1)"}, "bad_link", "link"),
        ({"kind": "press", "link": "http://127.0.0.1:8080/admin"}, "bad_link", "link"),
        ({"kind": "photo", "link": "https://example.com/a.jpg"}, "link_not_allowed", "link"),
        ({"kind": "video"}, "missing_file", "file"),
        ({"link": "https://example.com/"}, "bad_kind", "kind"),
        (
            {"kind": "video", "link": "https://x.cn/", "title": "长" * 201},
            "validation_failed",
            "title",
        ),
    ],
)
def test_bad_links_and_shapes_are_422(owner, payload, code, field):
    response = owner.call("post", json=payload)
    assert error_of(response) == (422, code)
    assert response.get_json()["error"]["fields"][0]["field"] == field
    assert Attachment.select().count() == 0


def test_a_file_and_a_link_together_are_refused(owner, store):
    response = owner.upload("video", mp4_bytes(), "a.mp4", link="https://v.qq.com/x")
    assert error_of(response) == (422, "file_and_link")
    assert files_in(store) == []


def test_too_many_photos(owner, store, open_window):
    limits = {**open_window.limits}
    limits["evidence"] = {**limits["evidence"], "photo": {"max_count": 2, "max_mb": 20}}
    Campaign.update(limits=limits).where(Campaign.id == open_window.id).execute()
    for color in ("red", "green"):
        assert owner.upload("photo", image_bytes(color=color), f"{color}.jpg").status_code == 201
    response = owner.upload("photo", image_bytes(color="blue"), "blue.jpg")
    assert error_of(response) == (422, "too_many")
    assert response.get_json()["error"]["message"] == "图片最多上传 2 个"
    assert Attachment.select().count() == 2 and len(files_in(store)) == 2
    assert owner.upload("document", pdf_bytes(), "a.pdf").status_code == 201  # other kinds: fine


def test_a_file_over_its_kind_limit(owner, store, open_window):
    limits = {**open_window.limits}
    limits["evidence"] = {**limits["evidence"], "document": {"max_count": 5, "max_mb": 1}}
    Campaign.update(limits=limits).where(Campaign.id == open_window.id).execute()
    content = pdf_bytes().replace(b"%%EOF", b" " * (1024 * 1024) + b"%%EOF")
    response = owner.upload("document", content, "big.pdf")
    assert error_of(response) == (422, "too_large")
    assert response.get_json()["error"]["fields"][0]["max_mb"] == 1
    assert files_in(store) == []


def test_the_upload_endpoint_alone_takes_more_than_2_mb(owner, store, api):
    noise = Image.frombytes("RGB", (1024, 1024), os.urandom(3 * 1024 * 1024))
    out = io.BytesIO()
    noise.save(out, "PNG")
    assert out.tell() > 3 * 1024 * 1024  # above the app-wide 2 MB body cap
    assert owner.upload("photo", out.getvalue(), "noise.png").status_code == 201
    response = api.post("/api/v1/text/count", json={"text": "党" * (1024 * 1024)})
    assert error_of(response) == (413, "payload_too_large")


class CountingBody(io.RawIOBase):
    """A request body of `size` bytes that records how much of it the server reads."""

    def __init__(self, size: int):
        self.size, self.position, self.read_bytes = size, 0, 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = base + offset
        return self.position

    def tell(self):
        return self.position

    def readinto(self, buffer):
        count = max(0, min(len(buffer), self.size - self.position))
        buffer[:count] = b"x" * count
        self.position += count
        self.read_bytes += count
        return count


def test_an_oversize_body_is_refused_unread(owner, store, override_settings):
    override_settings(upload_max_mb=1)
    body = CountingBody(2 * 1024 * 1024)
    response = owner.call("post", input_stream=body, content_type="multipart/form-data; boundary=x")
    assert error_of(response) == (413, "payload_too_large")
    assert response.get_json()["error"]["message"] == "文件过大，不能超过 1MB"
    assert body.read_bytes == 0
    assert files_in(store) == []


# --- Who may ------------------------------------------------------------------------------


def test_other_peoples_entries_look_missing(api, owner, open_window, store):
    theirs = owner.upload("photo", image_bytes(), "a.jpg").get_json()["id"]
    intruder = Owner(api, open_window, "o-intruder")
    intruder.base = owner.base
    missing = Owner(api, open_window, "o-other")
    missing.base = "/api/v1/entries/999999/attachments"
    for caller in (intruder, missing):
        answers = [
            caller.call("get"),
            caller.upload("photo", image_bytes(color="blue"), "b.jpg"),
            caller.call("get", f"/{theirs}/file"),
            caller.call("delete", f"/{theirs}"),
        ]
        assert [error_of(a) for a in answers] == [(404, "not_found")] * 4
        assert {a.data for a in answers} == {answers[0].data}
    assert Attachment.select().count() == 1 and len(files_in(store)) == 1


def test_an_attachment_of_another_entry_of_mine_is_404(owner, open_window, api):
    photo = owner.upload("photo", image_bytes(), "a.jpg").get_json()["id"]
    second = Entry.create(
        campaign=open_window, unit=owner.entry.unit, owner=owner.user, route="online"
    )
    response = owner.call("get", f"/{photo}/file")
    assert response.status_code == 200
    response.close()
    other = api.get(
        f"/api/v1/entries/{second.id}/attachments/{photo}/file",
        headers={"Authorization": f"Bearer {owner.token}"},
    )
    assert error_of(other) == (404, "not_found")


def test_anonymous_callers_are_401(api, owner):
    assert error_of(api.get(owner.base)) == (401, "unauthorized")


def test_after_the_deadline_evidence_is_frozen(owner, open_window, store):
    photo = owner.upload("photo", image_bytes(), "a.jpg").get_json()["id"]
    Campaign.update(closes_at=utcnow() - datetime.timedelta(days=1)).where(
        Campaign.id == open_window.id
    ).execute()
    assert error_of(owner.upload("photo", image_bytes(color="blue"), "b.jpg")) == (
        409,
        "deadline_passed",
    )
    assert error_of(owner.call("delete", f"/{photo}")) == (409, "deadline_passed")
    assert Attachment.select().count() == 1 and len(files_in(store)) == 1
    assert owner.call("get").status_code == 200


def test_an_oversize_chunked_body_is_refused_too(owner, store, override_settings):
    override_settings(upload_max_mb=1)
    body = CountingBody(3 * 1024 * 1024)
    response = owner.call(
        "post",
        input_stream=body,
        content_type="multipart/form-data; boundary=x",
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": None},
    )
    assert error_of(response) == (413, "payload_too_large")
    assert 0 < body.read_bytes <= 1024 * 1024 + 64 * 1024  # read up to the cap, not beyond


def test_deleting_a_draft_deletes_its_files(owner, store, run_jobs):
    assert owner.upload("photo", image_bytes(), "照片.jpg").status_code == 201
    run_jobs()  # the thumbnail too
    assert len(files_in(store)) == 2
    response = owner.client.delete(
        f"/api/v1/entries/{owner.entry.id}", headers={"Authorization": f"Bearer {owner.token}"}
    )
    assert response.status_code == 204
    assert files_in(store) == []
