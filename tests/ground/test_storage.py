"""`storage`: random keys, atomic writes with a checksum, and no way out of the root."""

import hashlib
import io
import os
import re

import pytest

import storage
from storage import LocalStorage, StorageError, get_storage, init_storage

KEY = re.compile(r"^\d{4}/\d{2}/[0-9a-f]{32}\.jpg$")


def files_under(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_save_streams_to_a_random_dated_key_with_size_and_sha256(tmp_path):
    store = LocalStorage(tmp_path)
    content = os.urandom(3 * storage.CHUNK + 17)  # several chunks and a remainder
    stored = store.save(io.BytesIO(content), "jpg")
    assert KEY.match(stored.key)
    assert stored.size == len(content)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert files_under(tmp_path) == [stored.key]
    with store.open(stored.key) as read_back:
        assert read_back.read() == content
    assert store.exists(stored.key)
    assert store.save(io.BytesIO(content), "jpg").key != stored.key


def test_delete_is_idempotent(tmp_path):
    store = LocalStorage(tmp_path)
    key = store.save(io.BytesIO(b"x"), "pdf").key
    store.delete(key)
    store.delete(key)
    assert not store.exists(key)
    assert files_under(tmp_path) == []


@pytest.mark.parametrize(
    "key",
    ["../outside.jpg", "2021/../../outside.jpg", "/etc/passwd", "2021//x.jpg", "a\\b.jpg", ""],
)
def test_keys_cannot_leave_the_root(tmp_path, key):
    store = LocalStorage(tmp_path / "root")
    (tmp_path / "outside.jpg").write_bytes(b"secret")
    with pytest.raises(StorageError):
        store.path(key, must_exist=False)
    with pytest.raises(StorageError):
        store.open(key)
    assert store.exists(key) is False
    with pytest.raises(StorageError):
        store.delete(key)
    assert (tmp_path / "outside.jpg").exists()


def test_a_missing_key_is_a_storage_error(tmp_path):
    with pytest.raises(StorageError):
        LocalStorage(tmp_path).open("2021/04/" + "0" * 32 + ".jpg")


def test_extensions_are_checked(tmp_path):
    with pytest.raises(StorageError):
        LocalStorage(tmp_path).save(io.BytesIO(b"x"), "../jpg")


class Broken(io.RawIOBase):
    """A client that hangs up half-way through the upload."""

    def __init__(self):
        self.calls = 0

    def read(self, size=-1):
        self.calls += 1
        if self.calls > 2:
            raise ConnectionResetError("client went away")
        return b"a" * 1000


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    store = LocalStorage(tmp_path)
    with pytest.raises(ConnectionResetError):
        store.save(Broken(), "mp4")
    assert files_under(tmp_path) == []


def test_files_get_the_umask_permissions(tmp_path):
    previous = os.umask(0o027)  # what the systemd units set: nginx's group may read
    try:
        key = LocalStorage(tmp_path).save(io.BytesIO(b"x"), "png").key
    finally:
        os.umask(previous)
    assert (tmp_path / key).stat().st_mode & 0o777 == 0o640


def test_the_process_wide_storage(tmp_path, monkeypatch):
    monkeypatch.setattr(storage, "_storage", None)
    with pytest.raises(RuntimeError):
        get_storage()
    built = init_storage(tmp_path / "new" / "root")
    assert get_storage() is built
    assert (tmp_path / "new" / "root").is_dir()
