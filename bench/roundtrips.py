"""Database round trips per request, counted on PostgreSQL: deterministic where timings are not.

`counting()` makes every new pooled connection hand out cursors that record each statement
sent, including what peewee sends on its own (BEGIN, COMMIT, the pool's liveness check), so
a test can assert how many round trips a request costs and the benchmarks can print them.
`python -m bench.roundtrips` prints the count for each step of the deadline-day paths
(login → unit → entry → submit, and a check-in) on DATABASE_URL, which must be PostgreSQL.
"""

import contextlib

import psycopg2.extensions

from models import db

_statements: list[str] | None = None


class CountingCursor(psycopg2.extensions.cursor):
    """A psycopg2 cursor that notes each statement it sends while counting is on."""

    def execute(self, query, vars=None):
        if _statements is not None:
            _statements.append(query.decode() if isinstance(query, bytes) else str(query))
        return super().execute(query, vars)


@contextlib.contextmanager
def counting():
    """Yield the list every statement sent to PostgreSQL is appended to while inside."""
    global _statements
    database = db.obj
    previous = database.connect_params.get("cursor_factory")
    database.connect_params["cursor_factory"] = CountingCursor
    _reconnect()
    _statements = []
    try:
        yield _statements
    finally:
        _statements = None
        if previous is None:
            database.connect_params.pop("cursor_factory", None)
        else:
            database.connect_params["cursor_factory"] = previous
        _reconnect()


def _reconnect() -> None:
    """Drop pooled connections so the next checkout opens one with the current factory."""
    if not db.is_closed():
        db.close()
    db.obj.close_all()
