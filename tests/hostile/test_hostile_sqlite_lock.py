"""SQLite: the touch-flushing job waits out "database is locked" (issue 11, item 9)."""

import sqlite3
import threading
import time

import pytest

from campaign.channels.touches import touch_record
from models import Touch, db
from tasks.touches import flush_touches, record_touch


@pytest.mark.skipif(
    "sqlite" not in __import__("os").environ.get("DATABASE_URL", "sqlite"),
    reason="PostgreSQL has no database-wide write lock",
)
def test_flushing_touches_retries_while_another_writer_holds_the_lock(campaign):
    record_touch(touch_record("wxa_open", app="wxa", openid="o-locked"))
    path = db.obj.database
    locked, release = threading.Event(), threading.Event()

    def hold_the_write_lock():
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(5)
        time.sleep(0.8)
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    locked.wait(5)
    db.connect(reuse_if_open=True)
    db.execute_sql("PRAGMA busy_timeout = 50")  # fail fast, as a snapshot conflict does
    try:
        release.set()
        assert flush_touches() == 1
    finally:
        holder.join()
    assert Touch.select().count() == 1
