"""Database round trips per request, counted on PostgreSQL: deterministic where timings are not.

`counting()` makes every new pooled connection hand out cursors that record each statement
sent, including what peewee sends on its own (BEGIN, COMMIT, the pool's liveness check), so
a test can assert how many round trips a request costs and the benchmarks can print them.
`per_request(send)` is one request's statements; the check-in benchmark prints its count.
"""

import contextlib
import re

import psycopg2.extensions

from models import ServerStatement, db

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


def per_request(send) -> list[str]:
    """The statements one request (`send()`, returning a response) costs, as it would on a
    warm worker: a pooled connection is checked out and back first, as between requests,
    and a statement's PREPARE, which a connection sends once in its life, is left out."""
    with counting() as statements:
        db.connect()
        db.close()
        statements.clear()
        response = send()
        if response.status_code >= 300:
            raise AssertionError(f"{response.status_code}: {response.get_data(as_text=True)}")
        return [s for s in statements if not s.startswith(ServerStatement.MARK)]


def label(statement: str) -> str:
    """A statement in two words for a report: `SELECT auth_session`, `INSERT redemption`."""
    verb = statement.split(None, 1)[0].upper() if statement.strip() else "?"
    table = re.search(r'(?:FROM|INTO|UPDATE)\s+"(\w+)"', statement)
    return f"{verb} {table.group(1)}" if table else verb


def _reconnect() -> None:
    """Drop pooled connections so the next checkout opens one with the current factory."""
    if not db.is_closed():
        db.close()
    db.obj.close_all()
