"""Evidence through the API with a shared bucket: stored there, thumbnailed by a job from
there, and downloaded by a redirect to a signed link (what lets any node serve any file)."""

import hashlib

import pytest
import requests

import storage
from models import Attachment
from storage import S3Storage, get_storage, init_storage
from tests.entries.test_attachments_api import Owner
from tests.entries.test_evidence import image_bytes, pdf_bytes


@pytest.fixture
def bucket(s3_bucket, tmp_path, app):
    original = get_storage()
    yield init_storage(tmp_path / "unused", s3_bucket)
    storage._storage = original


@pytest.fixture
def owner(client, open_window):
    return Owner(client, open_window, "o-s3")


def test_an_upload_lives_in_the_bucket_and_downloads_by_signed_link(owner, bucket, run_jobs):
    assert isinstance(bucket, S3Storage)
    photo = owner.upload("photo", image_bytes(size=(640, 480)), "现场.jpg")
    assert photo.status_code == 201, photo.get_json()
    run_jobs()  # the thumbnail job reads the original from the bucket
    row = Attachment.get_by_id(photo.get_json()["id"])
    assert bucket.exists(row.storage_key)
    assert row.thumb_key and bucket.exists(row.thumb_key)

    answer = owner.call("get", f"/{row.id}/file")
    assert answer.status_code == 302
    assert answer.headers["Cache-Control"] == "private, no-store"
    fetched = requests.get(answer.headers["Location"], timeout=5)
    assert fetched.status_code == 200
    assert hashlib.sha256(fetched.content).hexdigest() == row.sha256
    assert fetched.headers["Content-Type"] == "image/jpeg"
    assert fetched.headers["Content-Disposition"].startswith("attachment; ")


def test_a_document_keeps_its_name_on_the_signed_link(owner, bucket):
    document = owner.upload("document", pdf_bytes(), "报告.pdf")
    assert document.status_code == 201, document.get_json()
    answer = owner.call("get", f"/{document.get_json()['id']}/file")
    fetched = requests.get(answer.headers["Location"], timeout=5)
    assert fetched.content == pdf_bytes()
    assert "%E6%8A%A5%E5%91%8A.pdf" in fetched.headers["Content-Disposition"]
