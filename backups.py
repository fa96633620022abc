"""`make backup` / `make restore`: the database, the storage folder, and a manifest to check
a restore against (issue 11; RELIABILITY-NOTES T14). docs/deploy.md describes the drill.

    python -m backups create [DIR]           # DIR/backup-<UTC time>/ (default: ./backups)
    python -m backups restore BACKUP [--force]

A backup folder holds `database.sqlite3` (SQLite's online backup API: a consistent copy while
the service runs) or `database.dump` (`pg_dump --format=custom`), `storage.tar.gz` (evidence,
codes, kits), and `manifest.json`: the row count of every table and the sha256 of every
stored file. `restore` refuses a database that already has tables unless `--force` (then
PostgreSQL restores with `--clean`), unpacks the storage folder, and compares the restored
row counts and file hashes with the manifest; any difference is an error.

Phone numbers stay encrypted in the dump: restore with the same PHONE_KEY (docs/privacy.md).
"""

import datetime
import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.dump"
STORAGE_FILE = "storage.tar.gz"


class BackupError(RuntimeError):
    """A backup or restore that must not be trusted."""


def _sqlite_path(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:") else None


def _tables_and_counts(url: str) -> dict[str, int]:
    path = _sqlite_path(url)
    if path is not None:
        if not path.exists():
            return {}
        with sqlite3.connect(path) as connection:
            names = [
                row[0]
                for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
            counts = {
                n: connection.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in names
            }
        connection.close()
        return counts
    import psycopg2

    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        counts = _pg_counts(cursor)
    connection.close()
    return counts


def _pg_counts(cursor) -> dict[str, int]:
    cursor.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
    )
    counts = {}
    for (name,) in cursor.fetchall():
        cursor.execute(f'SELECT COUNT(*) FROM "{name}"')
        counts[name] = cursor.fetchone()[0]
    return counts


def _pg_dump(database_url: str, file: Path) -> dict[str, int]:
    """Dump and count from one snapshot, so the manifest describes exactly the dump."""
    import psycopg2

    connection = psycopg2.connect(database_url)
    try:
        connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts = _pg_counts(cursor)
            _run(["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}",
                  "--file", str(file), "--dbname", database_url])  # fmt: skip
        connection.rollback()
    finally:
        connection.close()
    return counts


def _file_hashes(folder: Path) -> dict[str, str]:
    hashes = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        hashes[path.relative_to(folder).as_posix()] = digest.hexdigest()
    return hashes


def create_backup(database_url: str, storage_dir: Path, target: Path) -> Path:
    """Write a new backup folder under `target`; return it."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = Path(target) / f"backup-{stamp}"
    folder.mkdir(parents=True)
    path = _sqlite_path(database_url)
    if path is not None:
        source, copy = sqlite3.connect(path), sqlite3.connect(folder / SQLITE_FILE)
        with copy:
            source.backup(copy)  # page by page, consistent even while the service writes
        source.close()
        copy.close()
        counts = _tables_and_counts(f"sqlite:///{folder / SQLITE_FILE}")
    else:
        counts = _pg_dump(database_url, folder / PG_FILE)
    storage_dir = Path(storage_dir)
    with tarfile.open(folder / STORAGE_FILE, "w:gz") as archive:
        if storage_dir.exists():
            archive.add(storage_dir, arcname="storage")
    manifest = {
        "created_at": stamp,
        "database": "sqlite" if path is not None else "postgresql",
        "rows": counts,
        "files": _file_hashes(storage_dir) if storage_dir.exists() else {},
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return folder


def restore_backup(folder: Path, database_url: str, storage_dir: Path, force: bool = False) -> dict:
    """Restore `folder` into the database and storage folder; return what was checked."""
    folder = Path(folder)
    manifest = json.loads((folder / MANIFEST).read_text())
    existing = _tables_and_counts(database_url)
    if existing and not force:
        raise BackupError("the target database already has tables: restore into an empty one")
    path = _sqlite_path(database_url)
    if path is not None:
        if manifest["database"] != "sqlite":
            raise BackupError("a PostgreSQL backup cannot be restored into SQLite")
        path.parent.mkdir(parents=True, exist_ok=True)
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
        source, target = sqlite3.connect(folder / SQLITE_FILE), sqlite3.connect(path)
        with target:
            source.backup(target)
        source.close()
        target.close()
    else:
        if manifest["database"] != "postgresql":
            raise BackupError("a SQLite backup cannot be restored into PostgreSQL")
        clean = ["--clean", "--if-exists"] if existing else []
        _run(["pg_restore", "--no-owner", "--exit-on-error", *clean, "--dbname", database_url,
              str(folder / PG_FILE)])  # fmt: skip
    storage_dir = Path(storage_dir)
    storage_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / STORAGE_FILE, "r:gz") as archive:
        staging = storage_dir.parent / f".restore-{manifest['created_at']}"
        archive.extractall(staging, filter="data")
    restored = staging / "storage"
    if restored.exists():
        shutil.copytree(restored, storage_dir, dirs_exist_ok=True)
    shutil.rmtree(staging, ignore_errors=True)
    return verify(manifest, database_url, storage_dir)


def verify(manifest: dict, database_url: str, storage_dir: Path) -> dict:
    """Compare row counts and file hashes with the manifest; raise on any difference."""
    counts = _tables_and_counts(database_url)
    rows = {t: (n, counts.get(t)) for t, n in manifest["rows"].items() if counts.get(t) != n}
    hashes = _file_hashes(Path(storage_dir))
    files = [name for name, digest in manifest["files"].items() if hashes.get(name) != digest]
    if rows or files:
        raise BackupError(f"restore differs from the backup: rows {rows}, files {files[:10]}")
    return {
        "tables": len(manifest["rows"]),
        "rows": sum(manifest["rows"].values()),
        "files": len(manifest["files"]),
    }


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[-2000:]}")


def main(argv: list[str]) -> int:
    from config import load_settings

    settings = load_settings()
    if len(argv) >= 1 and argv[0] == "create":
        target = Path(argv[1]) if len(argv) > 1 else Path("backups")
        print(create_backup(settings.database_url, settings.storage_dir, target))
        return 0
    if len(argv) >= 2 and argv[0] == "restore":
        report = restore_backup(
            Path(argv[1]), settings.database_url, settings.storage_dir, force="--force" in argv
        )
        print(json.dumps(report))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
