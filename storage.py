"""Where uploaded evidence and generated files live: one small interface, a local folder today.

Keys are ours, never the client's: `<yyyy>/<mm>/<uuid4 hex>.<ext>`, the extension coming
from the detected type. A write goes to a temporary file beside its final place and is
renamed over it only when complete, so a reader never sees half a file and a crash leaves
only a `.part` file that no key points to. `Storage` is the contract both backends fulfil
(`save`, `open`, `delete`, `exists`, `signed_url`): `LocalStorage`, a folder (nginx sends its
files with `X-Accel-Redirect`), and `S3Storage`, any S3-compatible bucket (Tencent COS,
Aliyun OSS, MinIO), which several nodes share and which hands out short-lived signed links.
"""

import datetime
import hashlib
import os
import re
import tempfile
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from werkzeug.security import safe_join

CHUNK = 1024 * 1024
EXTENSION = re.compile(r"^[a-z0-9]{1,8}$")


class StorageError(Exception):
    """A key that is malformed, outside the storage, or names nothing."""


@dataclass(frozen=True)
class StoredObject:
    """What `save` wrote: its key, its size in bytes and the sha256 of its content."""

    key: str
    size: int
    sha256: str


class Storage(ABC):
    """The operations the rest of the service may rely on, whatever holds the bytes."""

    @abstractmethod
    def save(self, stream: BinaryIO, extension: str) -> StoredObject:
        """Store everything `stream` yields under a new random key."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A binary file object over the content of `key`; the caller closes it."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove `key`; removing a missing key is not an error."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether `key` holds content."""

    def signed_url(self, key: str, mime: str, disposition: str | None) -> str | None:
        """A short-lived link the client may fetch the bytes from directly, or None when the
        bytes go through this service (the local folder)."""
        return None


def new_key(extension: str, now: datetime.datetime | None = None) -> str:
    """`<yyyy>/<mm>/<uuid4 hex>.<ext>`: nothing in it comes from the client."""
    if not EXTENSION.match(extension):
        raise StorageError(f"bad extension {extension!r}")
    now = now or datetime.datetime.now(datetime.UTC)
    return f"{now:%Y}/{now:%m}/{uuid.uuid4().hex}.{extension}"


def check_key(key) -> str:
    """A key as `new_key` makes them: no backslash, NUL, empty, `.` or `..` part."""
    if not isinstance(key, str) or "\\" in key or "\x00" in key:
        raise StorageError("malformed key")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise StorageError("malformed key")
    return key


class LocalStorage(Storage):
    """A folder on a local (or mounted) disk. Files get the process umask's permissions."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()

    def save(self, stream: BinaryIO, extension: str) -> StoredObject:
        key = new_key(extension)
        final = self.path(key, must_exist=False)
        final.parent.mkdir(parents=True, exist_ok=True)
        partial = final.with_name(f".{final.name}.part")
        digest, size = hashlib.sha256(), 0
        # O_EXCL: never write through a file or link someone else put there. Mode 0666 is
        # narrowed by the umask (0027 under systemd → 0640, readable by nginx's group).
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, final)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        _sync_directory(final.parent)
        return StoredObject(key=key, size=size, sha256=digest.hexdigest())

    def open(self, key: str) -> BinaryIO:
        return self.path(key).open("rb")

    def delete(self, key: str) -> None:
        self.path(key, must_exist=False).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        try:
            return self.path(key, must_exist=False).is_file()
        except StorageError:
            return False

    def path(self, key: str, must_exist: bool = True) -> Path:
        """The file of `key`; StorageError for anything outside the root (or missing)."""
        joined = safe_join(str(self.root), *check_key(key).split("/"))
        if joined is None:
            raise StorageError("key outside the storage")
        path = Path(joined)
        if must_exist and not path.is_file():
            raise StorageError("no such key")
        return path


def _sync_directory(directory: Path) -> None:
    """Make the rename durable: a power cut after this keeps the new name."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Digesting:
    """A reader that counts and hashes what passes through it, for uploads to S3."""

    def __init__(self, stream: BinaryIO):
        self.stream, self.size, self.digest = stream, 0, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.size += len(chunk)
        self.digest.update(chunk)
        return chunk


class S3Storage(Storage):
    """A bucket of any S3-compatible service; keys live under an optional prefix.

    Uploads are multipart above 8 MB (boto3's transfer manager), so a 200 MB video is never
    held in memory; reads stream. Nothing is public: clients get presigned GET links that
    expire after `url_expires` seconds and carry the Content-Type and Content-Disposition.
    """

    def __init__(self, client, bucket: str, prefix: str = "", url_expires: int = 300):
        self.client, self.bucket, self.url_expires = client, bucket, url_expires
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def save(self, stream: BinaryIO, extension: str) -> StoredObject:
        key = new_key(extension)
        reader = _Digesting(stream)
        self.client.upload_fileobj(reader, self.bucket, self._name(key))
        return StoredObject(key=key, size=reader.size, sha256=reader.digest.hexdigest())

    def open(self, key: str) -> BinaryIO:
        """A seekable copy (images are decoded with seeks): in memory up to 8 MB, then in a
        temporary file, never the whole of a large video in memory."""
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
        except self.client.exceptions.NoSuchKey:
            raise StorageError("no such key") from None
        copy = tempfile.SpooledTemporaryFile(max_size=8 * CHUNK)
        with body:
            for chunk in body.iter_chunks(CHUNK):
                copy.write(chunk)
        copy.seek(0)
        return copy

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except StorageError:
            return False
        except self.client.exceptions.ClientError:
            return False
        return True

    def signed_url(self, key: str, mime: str, disposition: str | None) -> str | None:
        params = {"Bucket": self.bucket, "Key": self._name(key), "ResponseContentType": mime}
        if disposition:
            params["ResponseContentDisposition"] = disposition
        return self.client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=self.url_expires
        )

    def _name(self, key: str) -> str:
        """The object name of `key`: the same checks as a local path, so no key escapes."""
        return self.prefix + check_key(key)


def s3_client(endpoint_url: str, region: str, access_key: str, secret_key: str, style: str):
    """A boto3 S3 client; `style` is `path` (MinIO) or `virtual` (COS, OSS)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region,
        aws_access_key_id=access_key or None,
        aws_secret_access_key=secret_key or None,
        config=Config(
            s3={"addressing_style": style},
            signature_version="s3v4",
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
        ),
    )


_storage: Storage | None = None


def init_storage(root: str | os.PathLike, s3=None) -> Storage:
    """Build the process-wide storage: the bucket `s3` describes (`config.S3Settings`), or
    else the folder `root` (STORAGE_DIR), created if missing."""
    global _storage
    if s3 is not None and s3.bucket:
        client = s3_client(
            s3.endpoint_url, s3.region, s3.access_key_id, s3.secret_access_key, s3.addressing_style
        )
        _storage = S3Storage(client, s3.bucket, s3.prefix, s3.url_expires)
        return _storage
    Path(root).mkdir(parents=True, exist_ok=True)
    _storage = LocalStorage(root)
    return _storage


def get_storage() -> Storage:
    if _storage is None:
        raise RuntimeError("storage is not initialised: call runtime.bootstrap() first")
    return _storage
