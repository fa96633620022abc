"""Where uploaded evidence and generated files live: one small interface, a local folder today.

Keys are ours, never the client's: `<yyyy>/<mm>/<uuid4 hex>.<ext>`, the extension coming
from the detected type. A write goes to a temporary file beside its final place and is
renamed over it only when complete, so a reader never sees half a file and a crash leaves
only a `.part` file that no key points to. `Storage` is the contract an S3-compatible class
can fulfil later (`save`, `open`, `delete`, `exists`); `path` exists only on the local
folder, for nginx's `X-Accel-Redirect`.
"""

import datetime
import hashlib
import os
import re
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


def new_key(extension: str, now: datetime.datetime | None = None) -> str:
    """`<yyyy>/<mm>/<uuid4 hex>.<ext>`: nothing in it comes from the client."""
    if not EXTENSION.match(extension):
        raise StorageError(f"bad extension {extension!r}")
    now = now or datetime.datetime.now(datetime.UTC)
    return f"{now:%Y}/{now:%m}/{uuid.uuid4().hex}.{extension}"


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
        if not isinstance(key, str) or "\\" in key or "\x00" in key:
            raise StorageError("malformed key")
        if any(part in ("", ".", "..") for part in key.split("/")):
            raise StorageError("malformed key")
        joined = safe_join(str(self.root), *key.split("/"))
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


_storage: Storage | None = None


def init_storage(root: str | os.PathLike) -> Storage:
    """Build the process-wide storage over `root` (STORAGE_DIR), creating the folder."""
    global _storage
    Path(root).mkdir(parents=True, exist_ok=True)
    _storage = LocalStorage(root)
    return _storage


def get_storage() -> Storage:
    if _storage is None:
        raise RuntimeError("storage is not initialised: call runtime.bootstrap() first")
    return _storage
