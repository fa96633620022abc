"""The S3-compatible backend, against moto's S3 emulator: the same contract as the folder,
and signed links that expire, for nodes that share one bucket (DESIGN §7, scale-out).

moto is an emulator, not Tencent COS, Aliyun OSS or MinIO; what it checks is that the
service speaks plain S3 (multipart upload, ranged streaming reads, presigned GETs).
"""

import hashlib
import io
import os

import pytest
import requests

import storage
from storage import S3Storage, StorageError, get_storage, init_storage, s3_client

BAD_KEYS = ["../outside.jpg", "2021/../../outside.jpg", "/etc/passwd", "2021//x.jpg", "a\\b.jpg"]


@pytest.fixture
def bucket_store(s3_bucket):
    client = s3_client(s3_bucket.endpoint_url, s3_bucket.region, "testing", "testing", "path")
    return S3Storage(client, s3_bucket.bucket, s3_bucket.prefix, url_expires=2)


def test_save_open_exists_delete(bucket_store):
    content = os.urandom(9 * storage.CHUNK + 5)  # above boto3's 8 MB multipart threshold
    stored = bucket_store.save(io.BytesIO(content), "mp4")
    assert stored.size == len(content)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert bucket_store.exists(stored.key)
    body = bucket_store.open(stored.key)
    assert body.read() == content
    body.close()
    names = bucket_store.client.list_objects_v2(Bucket=bucket_store.bucket)["Contents"]
    assert [o["Key"] for o in names] == [f"uploads/{stored.key}"]
    bucket_store.delete(stored.key)
    bucket_store.delete(stored.key)  # idempotent
    assert not bucket_store.exists(stored.key)
    with pytest.raises(StorageError):
        bucket_store.open(stored.key)


@pytest.mark.parametrize("key", BAD_KEYS)
def test_keys_are_checked_the_same_way(bucket_store, key):
    with pytest.raises(StorageError):
        bucket_store.open(key)
    assert bucket_store.exists(key) is False
    with pytest.raises(StorageError):
        bucket_store.delete(key)


def test_signed_links_carry_type_and_name_and_an_expiry(bucket_store):
    key = bucket_store.save(io.BytesIO(b"%PDF-1.4 demo"), "pdf").key
    disposition = "attachment; filename=\"a.pdf\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf"
    url = bucket_store.signed_url(key, "application/pdf", disposition)
    answer = requests.get(url, timeout=5)
    assert answer.status_code == 200 and answer.content == b"%PDF-1.4 demo"
    assert answer.headers["Content-Type"] == "application/pdf"
    assert answer.headers["Content-Disposition"] == disposition
    # SigV4 with the configured lifetime. moto checks neither signatures nor expiry on
    # presigned links (real services do), so the link's terms are what can be checked here.
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url and "X-Amz-Expires=2&" in url


def test_the_process_wide_storage_is_the_bucket_when_one_is_set(s3_bucket, tmp_path, app):
    original = get_storage()
    try:
        built = init_storage(tmp_path / "unused", s3_bucket)
        assert isinstance(built, S3Storage) and get_storage() is built
        assert not (tmp_path / "unused").exists()
    finally:
        storage._storage = original
