"""Backups proven (issue 11, item 11): a backup restored into an empty database has every
row and every stored file, and an entry reads back word for word."""

import io
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from PIL import Image

from backups import BackupError, create_backup, restore_backup
from models import Attachment, Entry, Unit, WechatUser, db
from storage import get_storage

APPROACH = "以“近邻党建”为抓手，组建楼栋党小组 128 个。"


@pytest.fixture
def data(open_window):
    owner = WechatUser.create(app="wxa", openid="o-backup", phone="13800138000")
    unit = Unit.create(
        campaign=open_window, owner=owner, name="备份单位", contact_phone="13800138000"
    )
    entry = Entry.create(
        campaign=open_window,
        unit=unit,
        owner=owner,
        route="online",
        title="备份演练",
        approach=APPROACH,
    )
    out = io.BytesIO()
    Image.new("RGB", (16, 16), "#c00").save(out, "PNG")
    stored = get_storage().save(io.BytesIO(out.getvalue()), "png")
    Attachment.create(
        entry=entry, kind="photo", storage_key=stored.key, mime="image/png", size=stored.size,
        sha256=stored.sha256,
    )  # fmt: skip
    return entry, stored.key, out.getvalue()


@pytest.fixture
def empty_database(settings, tmp_path):
    """A URL of an empty database of the same kind as the suite's."""
    if settings.database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'campaign.db'}"
        return
    import psycopg2

    parts = urlsplit(settings.database_url)
    name = parts.path.lstrip("/") + "_restore"
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def read_entry(url: str, entry_id: int) -> tuple:
    if url.startswith("sqlite"):
        import sqlite3

        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        row = connection.execute(
            "SELECT title, approach FROM entry WHERE id = ?", (entry_id,)
        ).fetchone()
        connection.close()
        return row
    import psycopg2

    connection = psycopg2.connect(url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT title, approach FROM entry WHERE id = %s", (entry_id,))
        row = cursor.fetchone()
    connection.close()
    return row


def test_a_backup_restores_into_an_empty_database(data, settings, tmp_path, empty_database):
    entry, key, image = data
    db.close()  # a running service's connections do not matter; the test's own is closed
    folder = create_backup(settings.database_url, settings.storage_dir, tmp_path / "backups")
    restored_storage = tmp_path / "restored-storage"
    report = restore_backup(folder, empty_database, restored_storage)
    assert report["rows"] >= 5 and report["files"] >= 1
    assert read_entry(empty_database, entry.id) == ("备份演练", APPROACH)
    assert (restored_storage / key).read_bytes() == image
    with pytest.raises(BackupError, match="already has tables"):
        restore_backup(folder, empty_database, restored_storage)  # never over live data


def test_a_restore_that_lost_a_file_is_refused(data, settings, tmp_path, empty_database):
    db.close()
    folder = create_backup(settings.database_url, settings.storage_dir, tmp_path / "backups")
    manifest = (folder / "manifest.json").read_text()
    (folder / "manifest.json").write_text(
        manifest.replace('"files": {', '"files": {"gone.png": "0", ', 1)
    )
    with pytest.raises(BackupError, match="gone.png"):
        restore_backup(folder, empty_database, tmp_path / "restored-storage")


def test_make_has_backup_and_restore_targets():
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "\nbackup:" in makefile and "\nrestore:" in makefile
