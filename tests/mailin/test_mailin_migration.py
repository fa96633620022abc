"""Migration 0010 on a database that already has mail-ins: each gets its own token and short
code before the columns become NOT NULL and UNIQUE; and it can be rolled back."""

import peewee
import pytest
from peewee import SqliteDatabase
from playhouse.migrations import Runner

from models import MIGRATIONS_DIR, SHORT_CODE_ALPHABET

MIGRATION = "0010_mailin_casebook"


def test_existing_mail_ins_get_tokens_and_short_codes(tmp_path):
    database = SqliteDatabase(str(tmp_path / "old.db"))  # foreign keys off: bare rows suffice
    runner = Runner(database, str(MIGRATIONS_DIR))
    names = [m.name for m in runner.status()]
    runner.up(target=names[names.index(MIGRATION) - 1])
    columns = "entry_id, status, tracking_no, note"
    for entry_id in (1, 2, 3):
        database.execute_sql(
            f"INSERT INTO mail_in ({columns}) VALUES (?, 'received', '', '')", (entry_id,)
        )
    assert MIGRATION in runner.up(target=MIGRATION)
    rows = database.execute_sql("SELECT token, short_code, checklist, missing FROM mail_in")
    rows = rows.fetchall()
    assert len({token for token, *_ in rows}) == 3 and all(len(t) >= 22 for t, *_ in rows)
    assert all(len(code) == 8 and set(code) <= set(SHORT_CODE_ALPHABET) for _, code, *_ in rows)
    assert {(checklist, missing) for *_, checklist, missing in rows} == {("{}", "[]")}
    with pytest.raises(peewee.IntegrityError):
        token = rows[0][0]
        database.execute_sql("UPDATE mail_in SET token = ? WHERE entry_id = 2", (token,))
    assert runner.down(target=MIGRATION) == [MIGRATION]
    assert "token" not in {c.name for c in database.get_columns("mail_in")}
    database.close()
