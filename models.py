"""The database: one class per table, in dependency order (DESIGN §4).

Every row belongs to a campaign, directly or through its parent. Datetimes are stored
as naive UTC; conversion to the campaign's time zone happens at the edges. The schema
itself is owned by `migrations/`; a test keeps this file and the migrations in step.
No Flask, RQ or wechatpy here.
"""

import contextlib
import datetime
import hashlib
import json
import re
import secrets
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

from peewee import (
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DatabaseError,
    DatabaseProxy,
    DateField,
    DateTimeField,
    Field,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    ModelInsert,
    Node,
    PostgresqlDatabase,
    SmallIntegerField,
    SqliteDatabase,
    TextField,
)
from peewee import __exception_wrapper__ as as_peewee_errors
from playhouse.migrations import Runner
from playhouse.pool import PooledPostgresqlDatabase
from psycopg2.extensions import TRANSACTION_STATUS_IDLE
from psycopg2.extensions import connection as PsycopgConnection

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

db = DatabaseProxy()


def utcnow() -> datetime.datetime:
    """Naive UTC now: what every DateTimeField here stores."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class TransactionsTravelLight:
    """PostgreSQL transactions in fewer round trips, the statements and their order unchanged.

    BEGIN waits and travels with the transaction's first statement, and a statement handed
    to `defer` (an audit row: nobody reads its result) travels with the next one or with
    COMMIT, as one query string. An audited write — BEGIN, INSERT, INSERT audit, COMMIT —
    is two round trips instead of four. PostgreSQL takes a transaction's snapshot at its
    first statement, not at BEGIN, so isolation is unchanged; a transaction that sent
    nothing sends neither COMMIT nor ROLLBACK. Every SQL string peewee sends here already
    has its `%` doubled (it always passes parameters), so strings join safely."""

    def begin(self, isolation_level=None):
        level = self._isolation_level if isolation_level is None else isolation_level
        isolation = self._adapter.isolation_level_str(level) if level else None
        begin = f"BEGIN TRANSACTION ISOLATION LEVEL {isolation}" if isolation else "BEGIN"
        if self.is_closed():
            self.cursor()  # connect (or refuse) now, as peewee's BEGIN would: connecting
            # later, at the first statement, would empty the transaction stack
        self._state.waiting = [(begin, ())]

    def defer(self, sql: str, params) -> None:
        """Send `sql` with the transaction's next statement or its COMMIT; now if none."""
        if not self.in_transaction():
            super().execute_sql(sql, params)
            return
        self._state.waiting.append((sql, tuple(params)))

    def execute_sql(self, sql, params=None):
        try:
            return self._execute_now(sql, params)
        except DatabaseError as error:
            if not _outdated_statement(error, sql):
                raise
            # A statement prepared on this connection no longer fits its tables (a migration
            # changed a column it returns) or is gone: prepare each again on its next use, and
            # run this one again at once unless a transaction it was part of has failed.
            self.connection().prepared.clear()
            if self.in_transaction():
                raise
            for name in set(_EXECUTED.findall(sql)):
                ServerStatement.by_name[name].ready()
            return self._execute_now(sql, params)

    def _execute_now(self, sql, params):
        waiting = self._take_waiting() if self.in_transaction() else []
        if not waiting:
            return super().execute_sql(sql, params)
        return self._send([*waiting, (sql, tuple(params or ()))])

    def commit(self):
        waiting = self._take_waiting()
        if waiting and waiting[0][0].startswith("BEGIN"):
            if len(waiting) == 1:
                return  # nothing reached the server: nothing to commit
        self._send([*waiting, ("COMMIT", ())])

    def rollback(self):
        waiting = self._take_waiting()
        if waiting and waiting[0][0].startswith("BEGIN"):
            return  # nothing reached the server: no transaction to roll back
        super().rollback()

    def _take_waiting(self) -> list:
        waiting = getattr(self._state, "waiting", None) or []
        self._state.waiting = []
        return waiting

    def _send(self, statements: list):
        sql = "; ".join(sql for sql, _ in statements)
        return super().execute_sql(sql, [p for _, params in statements for p in params])


class PooledPostgresqlTrustingRecent(TransactionsTravelLight, PooledPostgresqlDatabase):
    """peewee's PostgreSQL pool without a `SELECT 1` on every checkout of a fresh connection.

    peewee pings each pooled connection before handing it out: one extra round trip on every
    request, the largest single cost of a check-in (docs/deploy.md, "Scaling out"). A
    connection returned to the pool less than `PING_AFTER` seconds ago, idle and not closed
    by the driver, is handed out as is; an older one is still pinged, so connections that sat
    idle through a database restart or a firewall's idle timeout are still weeded out."""

    PING_AFTER = 5.0  # seconds

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._returned_at: dict[int, float] = {}

    def _is_closed(self, conn):
        returned = self._returned_at.pop(id(conn), None)
        fresh = returned is not None and time.monotonic() - returned < self.PING_AFTER
        if fresh and not conn.closed and conn.info.transaction_status == TRANSACTION_STATUS_IDLE:
            return False
        return super()._is_closed(conn)

    def _close(self, conn, close_conn=False):
        super()._close(conn, close_conn)
        if not close_conn and not conn.closed:
            self._returned_at[id(conn)] = time.monotonic()


class RememberingConnection(PsycopgConnection):
    """A psycopg2 connection that knows which statements it has prepared on its server."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.prepared: set[str] = set()


def make_database(url: str, pool_size: int = 10, prepare: bool = True):
    """Build the peewee database for a URL: SQLite in WAL mode, or pooled PostgreSQL
    (`prepare`: `Prepared` queries are prepared on the server; off behind a pooler that
    hands each transaction another server connection, such as PgBouncer's transaction mode)."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path[1:]) if parsed.path.startswith("//") else unquote(parsed.path)
        return SqliteDatabase(
            path or ":memory:",
            pragmas={"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 10000},
        )
    if parsed.scheme in ("postgres", "postgresql"):
        database = PooledPostgresqlTrustingRecent(
            parsed.path.lstrip("/"),
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname,
            port=parsed.port or 5432,
            max_connections=pool_size,
            stale_timeout=300,
            timeout=10,
            connection_factory=RememberingConnection,
        )
        database.prepares = prepare
        return database
    raise ValueError(f"unsupported DATABASE_URL scheme {parsed.scheme!r}")


def write_transaction():
    """A transaction that takes the write lock when it begins, for read-then-write work.

    On SQLite (WAL) a deferred transaction that read first and writes later fails at once with
    "database is locked" when another connection wrote in between; BEGIN IMMEDIATE waits for
    the lock instead. PostgreSQL needs nothing of the kind."""
    if isinstance(db.obj, PostgresqlDatabase):
        return db.atomic()
    return db.atomic("IMMEDIATE")


def insert_guard():
    """Around an INSERT that may lose a race to a unique index: a savepoint inside a
    transaction (so the IntegrityError leaves the transaction usable), nothing in autocommit,
    where the failed statement is all that is undone (BEGIN and COMMIT would be two more
    round trips)."""
    return db.atomic() if db.in_transaction() else contextlib.nullcontext()


# A peewee cursor wrapper's state of one read; the rest of it is the layout `Prepared` keeps.
_PER_READ = frozenset(("cursor", "count", "index", "populated", "row_cache"))


class Prepared:
    """A query that runs on every request or message, its SQL built once per process and
    database.

    Peewee turns the query tree into SQL on every execution; for the few queries each
    request runs (the session, the current campaign, a scanned ticket) that building was a
    third of a check-in's CPU, and for the outbox's claim and settle UPDATEs a third of a
    notice send's. `build(*samples)` makes the query with sample parameter values; the
    compiled SQL keeps their places and each call puts its own values there. A sample must
    reach the SQL parameters unchanged and once (strings, datetimes, ints beyond the small
    ones Python shares); if one does not, every call simply builds its query as before.

    Reading the rows, peewee also works out on every execution which column belongs to which
    model and field (`initialize` of its cursor wrapper: for the session's four-model join,
    more CPU than the rows themselves). That layout depends only on the SQL, so it is kept
    from the first read and given to each later one.

    On PostgreSQL the statement is also prepared on the server, once per connection
    (`ServerStatement`), so the server no longer parses and plans it on every run: for the
    session's join that was two thirds of its time in PostgreSQL."""

    def __init__(self, build, *samples):
        self._build = build
        self._samples = samples
        self._compiled = None  # (database, query, sql, params, slots) or (database, None, …)
        self._layout = None  # the cursor wrapper's column layout, from its first row
        self._server = None  # the ServerStatement, where the database prepares

    def _compile(self):
        query = self._build(*self._samples)
        sql, params = query.sql()
        slots = [i for sample in self._samples for i, p in enumerate(params) if p is sample]
        if len(slots) != len(self._samples):
            query = None  # a sample was converted or repeated: no shortcut
        self._compiled = (db.obj, query, sql, params, slots)
        self._layout = None
        prepares = query is not None and getattr(db.obj, "prepares", False)
        self._server = ServerStatement(sql, params) if prepares else None

    def _filled(self, values) -> tuple:
        """(query, sql, params with `values` in their places); query None: build each time."""
        if self._compiled is None or self._compiled[0] is not db.obj:
            self._compile()
        _, query, sql, params, slots = self._compiled
        if query is None:
            return None, sql, params
        params = list(params)
        for slot, value in zip(slots, values, strict=True):
            params[slot] = value
        if self._server is not None:
            sql = self._server.ready()
        return query, sql, params

    def rows(self, *values):
        """The query's result rows (models, tuples or dicts, as `build` asked)."""
        query, sql, params = self._filled(values)
        if query is None:
            return list(self._build(*values))
        wrapper = query._get_cursor_wrapper(db.execute_sql(sql, params))
        if self._layout is not None:
            vars(wrapper).update(self._layout)
        found = list(wrapper)
        if self._layout is None and wrapper.initialized:
            self._layout = {
                name: value for name, value in vars(wrapper).items() if name not in _PER_READ
            }
        return found

    def first(self, *values):
        found = self.rows(*values)
        return found[0] if found else None

    def execute(self, *values) -> int:
        """Run an UPDATE or DELETE; how many rows it changed."""
        return execute_together([self.statement(*values)])

    def statement(self, *values) -> tuple[str, list]:
        """(sql, params) of the query with `values`, for `execute_together`."""
        query, sql, params = self._filled(values)
        return (sql, params) if query is not None else self._build(*values).sql()


class ServerStatement:
    """A statement PostgreSQL keeps prepared on each connection that ran it: prepared once
    per connection, in a round trip of its own, then run with `EXECUTE` and the values.

    The round trip (`MARK`) is a DO block that drops a statement of the same name the
    session may already hold, then prepares it: an RQ work-horse can inherit its parent's
    pooled connection, and what an earlier work-horse prepared on that session is not in a
    later one's copy of the connection's notes. A prepared statement outlives a rolled-back
    transaction, so the statement is noted once the block has run. The name comes from the
    statement with its parameter types, so one name is always one statement.

    Each parameter is declared with the type of its sample value: left to inference, an id
    compared with an `integer` column would be `integer`, and an id beyond its range (an
    id from a request body or a job's arguments) would fail instead of matching nothing."""

    MARK = "DO $prepare$"
    by_name: dict[str, "ServerStatement"] = {}

    def __init__(self, sql: str, params: list):
        numbers = iter(range(1, len(params) + 1))
        numbered = re.sub(r"%%|%s", lambda m: "%" if m[0] == "%%" else f"${next(numbers)}", sql)
        types = f" ({', '.join(map(_server_type, params))})" if params else ""
        body = f"{types} AS {numbered}"
        self.name = "prepared_" + hashlib.sha1(body.encode()).hexdigest()[:20]
        self.prepare = (
            f"{self.MARK} BEGIN IF EXISTS (SELECT FROM pg_prepared_statements WHERE name = "
            f"'{self.name}') THEN DEALLOCATE {self.name}; END IF; "
            f"EXECUTE $statement$PREPARE {self.name}{body}$statement$; END $prepare$"
        )
        values = f" ({', '.join(['%s'] * len(params))})" if params else ""
        self.execute = f"EXECUTE {self.name}{values}"
        ServerStatement.by_name[self.name] = self

    def ready(self) -> str:
        """The EXECUTE statement, after preparing it on this thread's connection if needed."""
        connection = db.connection()
        if self.name not in connection.prepared:
            with as_peewee_errors, connection.cursor() as cursor:
                cursor.execute(self.prepare)
            connection.prepared.add(self.name)
        return self.execute


_EXECUTED = re.compile(r"EXECUTE (prepared_[0-9a-f]+)")
# feature_not_supported ("cached plan must not change result type"), invalid statement name
_OUTDATED = {"0A000", "26000"}


def _outdated_statement(error, sql: str) -> bool:
    code = getattr(getattr(error, "orig", None), "pgcode", None)
    return code in _OUTDATED and _EXECUTED.search(sql) is not None


def _server_type(value) -> str:
    """The PostgreSQL type of a parameter with this sample value (bool before int: a bool
    is an int in Python)."""
    for kind, name in _SERVER_TYPES:
        if isinstance(value, kind):
            return name
    return "unknown"  # inferred from where it stands


_SERVER_TYPES = (
    (bool, "boolean"),
    (int, "bigint"),
    (float, "double precision"),
    (str, "text"),
    (datetime.datetime, "timestamp"),
    (datetime.date, "date"),
)


def execute_together(statements: list[tuple[str, list]]) -> int:
    """UPDATE or DELETE statements in one commit; the row count of the last.

    On PostgreSQL (outside a transaction) they travel as one query string: one round trip
    instead of BEGIN, each statement and COMMIT, and PostgreSQL runs a query string of
    several statements as one transaction. SQLite takes one statement per call, in-process,
    so there they run in a transaction."""
    if len(statements) > 1 and not db.in_transaction() and isinstance(db.obj, PostgresqlDatabase):
        sql = "; ".join(sql for sql, _ in statements)
        return db.execute_sql(sql, [p for _, params in statements for p in params]).rowcount
    with db.atomic() if len(statements) > 1 else contextlib.nullcontext():
        count = 0
        for sql, params in statements:
            count = db.execute_sql(sql, params).rowcount
        return count


def write_later(query) -> None:
    """A write whose result nobody reads (an audit row): on PostgreSQL, inside a transaction,
    it travels with the transaction's next statement or its COMMIT; elsewhere it runs now."""
    if isinstance(db.obj, TransactionsTravelLight):
        db.obj.defer(*query.sql())
    else:
        query.execute()


def insert_new_rows(fields: list, rows: list[tuple]) -> None:
    """Many rows in one INSERT, skipping those a unique key already holds; the model's
    other fields get their defaults. Peewee's `insert_many` builds such a query node by
    node, value by value: 5 of the 6 s a 100,000-recipient fan-out took. Here the SQL is
    placeholders joined as a string, and each value goes through its field's `db_value`,
    as peewee would send it."""
    if not rows:
        return
    model = fields[0].model
    given = {field.name for field in fields}  # names: a peewee field's == builds a query
    defaulted = [
        f for f in model._meta.sorted_fields if f.name not in given and f.default is not None
    ]
    fields = [*fields, *defaulted]
    defaults = tuple(f.default() if callable(f.default) else f.default for f in defaulted)
    columns = ", ".join(f'"{field.column_name}"' for field in fields)
    row = "(" + ", ".join([db.param] * len(fields)) + ")"
    values = ", ".join([row] * len(rows))
    params = [
        field.db_value(value)
        for one in rows
        for field, value in zip(fields, one + defaults, strict=True)
    ]
    table = model._meta.table_name
    db.execute_sql(
        f'INSERT INTO "{table}" ({columns}) VALUES {values} ON CONFLICT DO NOTHING', params
    )


def refresh_statistics(model) -> None:
    """ANALYZE a table just filled in bulk, on PostgreSQL. Until autovacuum gets to it (a
    minute or more later) the planner sees the table as it was before: after a notice's
    fan-out it reached each batch's hundred rows through the (state, lease_until) index,
    reading every pending row of the notice, 9 ms instead of 0.1 ms a query."""
    if isinstance(db.obj, PostgresqlDatabase):
        db.execute_sql(f'ANALYZE "{model._meta.table_name}"')


def init_db(url: str, pool_size: int = 10, prepare: bool = True):
    """Point the shared `db` proxy at the configured database."""
    database = make_database(url, pool_size, prepare)
    db.initialize(database)
    return database


class JSONField(TextField):
    """JSON stored as text, so SQLite and PostgreSQL behave the same."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class SealedPhoneField(CharField):
    """A phone number encrypted at rest, with its blind index in front (sealing.py).

    Code reads and writes plain numbers; the column holds ciphertext. Equality never
    matches a sealed value: search with `campaign.phones.search_condition`."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 255)
        super().__init__(*args, **kwargs)

    def db_value(self, value):
        from sealing import seal

        return super().db_value(seal(value))

    def python_value(self, value):
        from sealing import unseal

        return unseal(super().python_value(value))


class RowInsert(ModelInsert):
    """peewee's INSERT of one row, its statement text kept per shape.

    Peewee builds the statement node by node, value by value, on every INSERT: for a unit's
    registration, its INSERT and its audit row's, ≈ a fifth of the request's CPU. The text
    depends only on the model, the fields given (the rest take their defaults), the
    RETURNING columns and the database's dialect. Per such shape peewee renders it once,
    with a placeholder for every field; each INSERT then only works out its values, through
    each field's `db_value`, as peewee would. Whatever peewee would write into the text
    rather than pass as a parameter takes peewee's own way: a value that is itself SQL (an
    expression, a subquery, a model instance for a field that is not a foreign key), a
    `db_value` or default that is SQL, a key that is not a field, an ON CONFLICT clause, a
    CTE of its own, a RETURNING expression, a context that writes values as literals.

    `_shapes` is shared by every thread: two threads may render the same new shape at once
    and store the same text; a dict's get and set are atomic, so nothing more is needed."""

    # (model, fields given in any order, RETURNING fields, param, quote) -> (fields in
    # peewee's order, statement text), or None: this shape always takes peewee's way
    _shapes: dict[tuple, tuple[list[Field], str] | None] = {}

    def __sql__(self, ctx):
        row = self._insert
        returning = tuple(self._returning or ())
        if (
            not isinstance(row, dict)
            or self._on_conflict is not None
            or self._cte_list
            or ctx.state.value_literals
            or not all(isinstance(field, Field) for field in returning)
        ):
            return super().__sql__(ctx)
        key = (self.model, frozenset(row), returning, ctx.state.param, ctx.state.quote)
        try:
            shape = self._shapes[key]
        except KeyError:
            shape = self._shapes[key] = self._shape(ctx)
        if shape is None:
            return super().__sql__(ctx)
        for field, value in row.items():  # before any default is called or value converted
            if isinstance(value, Node) and not (
                isinstance(value, Model) and isinstance(field, ForeignKeyField)
            ):
                return super().__sql__(ctx)
        fields, text = shape
        defaults = self.model._meta.defaults  # what peewee's INSERT reads them from
        params = []
        for field in fields:
            if field in row:
                value = row[field]
            else:
                value = defaults[field]
                if callable(value):
                    value = value()
            param = field.db_value(value)
            if isinstance(param, Node):  # peewee writes a converted value that is SQL inline
                return super().__sql__(ctx)
            params.append(param)
        ctx._values.extend(params)
        return ctx.literal(text)

    def _shape(self, ctx) -> tuple[list[Field], str] | None:
        """The fields in peewee's order and the statement peewee renders for them, with one
        placeholder per field; None if peewee would render this shape any other way."""
        row = self._insert
        defaults = self.model._meta.defaults
        if not all(isinstance(key, Field) for key in row):
            return None  # a column or other node as a key: peewee's way
        left = [field for field in defaults if field not in row]
        if any(isinstance(defaults[field], Node) for field in left):
            return None
        fields = sorted([*row, *left], key=lambda field: field.get_sort_key(ctx))
        template = ModelInsert(self.model, dict.fromkeys(fields))  # every value a placeholder
        template._returning = self._returning
        text, values = ctx.as_new().parse(template)
        if len(values) != len(fields):  # a field's db_value(None) is SQL
            return None
        return fields, text


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False

    @classmethod
    def insert(cls, __data=None, **insert):
        return RowInsert(cls, cls._normalize_data(__data, insert))


# --- The campaign -------------------------------------------------------------------------


class Campaign(BaseModel):
    """One call for entries; all of the plan's facts live here, not in code."""

    slug = CharField(unique=True, max_length=64)
    title = CharField(max_length=200)
    theme = CharField(max_length=200)
    organizer = CharField(max_length=200)
    timezone = CharField(max_length=64, default="Asia/Shanghai")
    # Minutes east of UTC of the campaign's calendar days: its time zone at opening, set with it
    # (campaign.definition). The funnel's day counters (`FunnelDay`) are kept in these days.
    day_offset = IntegerField(default=480)
    opens_at = DateTimeField()
    closes_at = DateTimeField()
    grace_minutes = IntegerField(default=0)
    review_opens_at = DateTimeField(null=True)
    review_closes_at = DateTimeField(null=True)
    publish_from = DateTimeField(null=True)
    publish_until = DateTimeField(null=True)
    stage = CharField(max_length=32, default="collection")
    limits = JSONField()
    quotas = JSONField()
    contact = JSONField()
    regions = JSONField()
    org_levels = JSONField()
    settings = JSONField(default=dict)
    is_current = BooleanField(default=False, index=True)
    # A new random value whenever the campaign's options change (campaign.definition): every
    # process keeps the options it read under the stamp the campaign row carries.
    options_stamp = CharField(max_length=32, default="")
    created_at = DateTimeField(default=utcnow)


class CampaignOption(BaseModel):
    """A coded choice of a campaign: domain, theme, route, criterion, stage or element."""

    campaign = ForeignKeyField(Campaign, backref="options", on_delete="CASCADE")
    kind = CharField(max_length=16)
    code = CharField(max_length=32)
    label = CharField(max_length=100)
    description = TextField(default="")
    position = IntegerField(default=0)
    weight = FloatField(default=1.0)

    class Meta:
        indexes = ((("campaign", "kind", "code"), True),)


# --- People and organizations -------------------------------------------------------------


class WechatUser(BaseModel):
    """A WeChat identity in one of our apps. `session_key` never leaves the server."""

    app = CharField(max_length=8)  # "mp" or "wxa"
    openid = CharField(max_length=64)
    unionid = CharField(max_length=64, null=True, index=True)
    session_key = CharField(max_length=64, null=True)
    nickname = CharField(max_length=100, null=True)
    phone = SealedPhoneField(null=True)
    follower = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("app", "openid"), True),)


class Account(BaseModel):
    """A console login: organizer, expert or admin."""

    username = CharField(max_length=64, unique=True)
    password_hash = CharField(max_length=255)
    role = CharField(max_length=16)
    display_name = CharField(max_length=100)
    campaign = ForeignKeyField(Campaign, null=True, backref="accounts", on_delete="CASCADE")
    all_campaigns = BooleanField(default=False)  # issue 11: explicitly every campaign
    wechat_user = ForeignKeyField(WechatUser, null=True, on_delete="SET NULL")
    active = BooleanField(default=True)
    failed_logins = IntegerField(default=0)
    locked_until = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)
    pii = BooleanField(default=False)  # may see whole phone numbers (console, exports)


class AuthSession(BaseModel):
    """A bearer token we issued, to a WeChat user or a console account; only its hash is kept."""

    token_hash = CharField(max_length=64, unique=True)
    user = ForeignKeyField(WechatUser, null=True, backref="sessions", on_delete="CASCADE")
    account = ForeignKeyField(Account, null=True, backref="sessions", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    revoked_at = DateTimeField(null=True)


class Department(BaseModel):
    """A recommending department (organization, industry or party-school route)."""

    campaign = ForeignKeyField(Campaign, backref="departments", on_delete="CASCADE")
    name = CharField(max_length=200)
    route = CharField(max_length=32)
    region = CharField(max_length=64, default="")
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="SET NULL")
    contact_name = CharField(max_length=64, default="")
    contact_phone = SealedPhoneField(default="")
    invite_code = CharField(max_length=32, unique=True)
    invite_expires_at = DateTimeField(null=True)  # issue 11: None = never
    invite_max_uses = IntegerField(null=True)  # issue 11: None = unlimited
    invite_uses = IntegerField(default=0)  # bindings through the current code
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("campaign", "name"), True),)


class DepartmentMember(BaseModel):
    """A WeChat user bound to a department through its invite code."""

    department = ForeignKeyField(Department, backref="members", on_delete="CASCADE")
    user = ForeignKeyField(WechatUser, backref="memberships", on_delete="CASCADE")
    bound_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("department", "user"), True),)


class Channel(BaseModel):
    """A tracked way in: one short unguessable code, printed as QR codes and posters."""

    campaign = ForeignKeyField(Campaign, backref="channels", on_delete="CASCADE")
    department = ForeignKeyField(Department, null=True, backref="channels", on_delete="CASCADE")
    route = CharField(max_length=32)
    code = CharField(max_length=16, unique=True)
    label = CharField(max_length=200, default="")
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("campaign", "route"), False),)


class ChannelAsset(BaseModel):
    """A generated code of a channel: link QR, mini-program code or official-account QR."""

    channel = ForeignKeyField(Channel, backref="codes", on_delete="CASCADE")
    kind = CharField(max_length=16)  # link | wxa | mp
    status = CharField(max_length=16, default="pending")  # pending | ready | failed
    storage_key = CharField(max_length=255, null=True)
    ticket = CharField(max_length=255, null=True)
    url = CharField(max_length=512, null=True)
    error = TextField(null=True)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("channel", "kind"), True),)


class Attribution(BaseModel):
    """The first touch of a user in a campaign: it fixes the route and department."""

    campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
    user = ForeignKeyField(WechatUser, backref="attributions", on_delete="CASCADE")
    channel = ForeignKeyField(Channel, null=True, on_delete="SET NULL")
    route = CharField(max_length=32)
    department = ForeignKeyField(Department, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    reassigned_by = CharField(max_length=64, null=True)

    class Meta:
        indexes = ((("campaign", "user"), True), (("campaign", "department"), False))


class Touch(BaseModel):
    """One scan or open: the funnel's raw data."""

    id = BigAutoField()
    campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
    channel = ForeignKeyField(Channel, null=True, on_delete="SET NULL")
    user = ForeignKeyField(WechatUser, null=True, on_delete="SET NULL")
    visitor = CharField(max_length=64, null=True)
    kind = CharField(max_length=16)  # link_scan | mp_scan | mp_subscribe | wxa_open | oauth
    client = CharField(max_length=16, default="other")  # wechat | other
    at = DateTimeField(default=utcnow)
    rolled = BooleanField(
        default=False
    )  # counted into FunnelVisitor (campaign.channels.funnel_rollup)

    class Meta:
        indexes = (
            (("campaign", "channel", "at"), False),
            (("campaign", "at"), False),
            (("rolled", "id"), False),
        )


class FunnelVisitor(BaseModel):
    """A visitor (user or anonymous) seen in a funnel scope, and when first: distinct counts
    over a million touches without scanning them (DESIGN §8)."""

    campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
    level = CharField(max_length=8)  # all | route | dept | channel
    scope = CharField(max_length=32)  # "" | route code | department id | channel id
    is_user = BooleanField()
    visitor = CharField(max_length=80)  # u<user id> | v<visitor cookie>
    first_at = DateTimeField()

    class Meta:
        indexes = (
            (("campaign", "level", "scope", "is_user", "visitor"), True),
            (("campaign", "level", "scope", "first_at", "is_user"), False),
        )


class FunnelCount(BaseModel):
    """How many `FunnelVisitor` rows a scope has (scans) and how many are users (logins): the
    roll-up adds the visitors it files, in the same transaction, so totals read one row."""

    campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
    level = CharField(max_length=8)
    scope = CharField(max_length=32)
    scans = IntegerField(default=0)
    logins = IntegerField(default=0)

    class Meta:
        indexes = ((("campaign", "level", "scope"), True),)


class FunnelSlot(BaseModel):
    """Visitors of the whole campaign and of each route by the quarter hour (UTC) of their
    first time, kept by the roll-up: a daily series adds up at most 96 slots a day, in any
    time zone (every offset is whole quarter hours), instead of counting every visitor."""

    campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
    level = CharField(max_length=8)  # all | route
    scope = CharField(max_length=32)
    slot = BigIntegerField()  # quarter hours since 1970-01-01 00:00 UTC
    scans = IntegerField(default=0)
    logins = IntegerField(default=0)

    class Meta:
        indexes = ((("campaign", "level", "scope", "slot"), True),)


class FunnelDay(BaseModel):
    """Units, drafts and entries first reaching each rung of the ladder, per route and local
    day (`Campaign.day_offset`): the campaign's and routes' daily series read these few rows
    instead of every entry. Database triggers on unit and entry append each change to
    `FunnelDayChange` (no shared row is updated by a writer, so busy days do not queue on
    one counter); `campaign.channels.funnel_days.fold` adds them in here."""

    campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
    route = CharField(max_length=32)
    step = CharField(max_length=16)  # units | drafts | submitted | … | awarded
    day = DateField()
    n = IntegerField(default=0)

    class Meta:
        indexes = ((("campaign", "route", "step", "day"), True),)


class FunnelDayChange(BaseModel):
    """+1 or −1 on a `FunnelDay` counter, appended by the triggers, until folded in."""

    id = BigAutoField()
    campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
    route = CharField(max_length=32)
    step = CharField(max_length=16)
    day = DateField()
    n = IntegerField()


class KitArchive(BaseModel):
    """A ZIP of one department's codes and posters, or of every department's; built by a job."""

    campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
    department = ForeignKeyField(Department, null=True, on_delete="CASCADE")
    status = CharField(max_length=16, default="pending")  # pending | running | ready | failed
    done = IntegerField(default=0)
    total = IntegerField(default=0)
    storage_key = CharField(max_length=255, null=True)
    size = BigIntegerField(default=0)
    error = TextField(null=True)
    requested_by = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    finished_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("campaign", "created_at"), False),)


class Unit(BaseModel):
    """A grassroots party organization, registered by its contact person."""

    campaign = ForeignKeyField(Campaign, backref="units", on_delete="CASCADE")
    owner = ForeignKeyField(WechatUser, backref="units", on_delete="CASCADE")
    name = CharField(max_length=200, default="")
    region = CharField(max_length=64, default="")
    domain = CharField(max_length=32, default="")
    org_level = CharField(max_length=32, default="")
    contact_name = CharField(max_length=64, default="")
    contact_phone = SealedPhoneField(default="")
    phone_verified = BooleanField(default=False)
    merged_into = ForeignKeyField("self", null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    # The owner's attribution (the online route without one), copied by database triggers on
    # unit and attribution (migration 0014); never written here. The funnels count by it.
    # No foreign keys: a deleted department or channel reaches these through the attribution.
    owner_route = CharField(max_length=32, default="online")
    owner_department_id = IntegerField(null=True)
    owner_channel_id = IntegerField(null=True)

    class Meta:
        indexes = (
            (("campaign", "owner"), True),
            (("campaign", "region"), False),
            (("campaign", "domain"), False),
            (("campaign", "owner_route", "merged_into"), False),
            (("campaign", "owner_department_id", "merged_into"), False),
            (("campaign", "owner_channel_id", "merged_into"), False),
        )


# --- Entries ------------------------------------------------------------------------------


class Entry(BaseModel):
    """A brand or case. Status moves only through `campaign.entries.status`."""

    campaign = ForeignKeyField(Campaign, backref="entries", on_delete="CASCADE")
    unit = ForeignKeyField(Unit, backref="entries", on_delete="CASCADE")
    owner = ForeignKeyField(WechatUser, backref="entries", on_delete="CASCADE")
    track = CharField(max_length=8, default="case")  # brand | case
    domain = CharField(max_length=32, default="")
    themes = JSONField(default=list)
    title = CharField(max_length=200, default="")
    abstract = TextField(default="")
    background = TextField(default="")
    approach = TextField(default="")
    results = TextField(default="")
    significance = TextField(default="")
    route = CharField(max_length=32)
    channel = ForeignKeyField(Channel, null=True, on_delete="SET NULL")
    department = ForeignKeyField(Department, null=True, backref="entries", on_delete="SET NULL")
    status = CharField(max_length=16, default="draft")
    content_check = CharField(max_length=16, default="unchecked")
    duplicate_group = CharField(max_length=32, null=True)
    fingerprint = JSONField(null=True)
    name_consent = BooleanField(null=True)  # may the unit's name be published? None: not asked
    version = IntegerField(default=1)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    submitted_at = DateTimeField(null=True)
    # The ladder reached (1 submitted … 5 awarded) and when each rung was first reached: kept
    # by database triggers on status_change and entry.status (migration 0014); never written
    # here. The funnels count these instead of reading the history.
    rung = SmallIntegerField(default=0)
    reached_1 = DateTimeField(null=True)
    reached_2 = DateTimeField(null=True)
    reached_3 = DateTimeField(null=True)
    reached_4 = DateTimeField(null=True)
    reached_5 = DateTimeField(null=True)

    class Meta:
        indexes = (
            (("campaign", "status"), False),
            (("campaign", "department", "status"), False),
            (("campaign", "route", "status"), False),
            (("campaign", "route", "rung"), False),
            (("campaign", "department", "rung"), False),
            (("campaign", "channel", "rung"), False),
            (("campaign", "domain", "status"), False),
        )


class EntryRevision(BaseModel):
    """A saved version of an entry's text, so nothing typed is ever lost."""

    entry = ForeignKeyField(Entry, backref="revisions", on_delete="CASCADE")
    data = JSONField()
    saved_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("entry", "saved_at"), False),)


class StatusChange(BaseModel):
    """Every status transition of an entry, with who made it and why."""

    entry = ForeignKeyField(Entry, backref="status_changes", on_delete="CASCADE")
    from_status = CharField(max_length=16)
    to_status = CharField(max_length=16)
    actor = CharField(max_length=64)
    note = TextField(default="")
    at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("to_status", "at"), False),)


class LateCode(BaseModel):
    """A code an organizer gives a department to submit after the deadline."""

    campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
    department = ForeignKeyField(Department, null=True, on_delete="CASCADE")
    code = CharField(max_length=32, unique=True)
    expires_at = DateTimeField()
    max_uses = IntegerField(default=1)
    uses = IntegerField(default=0)
    note = TextField(default="")
    created_by = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)


class Attachment(BaseModel):
    """Evidence of an entry; stored under a random key, typed by its magic bytes."""

    entry = ForeignKeyField(Entry, backref="attachments", on_delete="CASCADE")
    kind = CharField(max_length=16)  # photo | video | document | press
    original_name = CharField(max_length=255, default="")
    storage_key = CharField(max_length=255, null=True)
    link = CharField(max_length=1024, null=True)
    mime = CharField(max_length=64, default="")
    size = BigIntegerField(default=0)
    sha256 = CharField(max_length=64, default="")
    width = IntegerField(null=True)
    height = IntegerField(null=True)
    thumb_key = CharField(max_length=255, null=True)
    check_status = CharField(max_length=16, default="pending")
    trace_id = CharField(max_length=64, null=True, index=True)
    check_started_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)


class DuplicatePair(BaseModel):
    """Two entries whose texts look alike (same case sent twice, or copied), for organizers."""

    entry = ForeignKeyField(Entry, backref="duplicates", on_delete="CASCADE")
    other = ForeignKeyField(Entry, on_delete="CASCADE")
    similarity = FloatField()
    found_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("entry", "other"), True),)


# --- WeChat callbacks and notices ---------------------------------------------------------


class InboundEvent(BaseModel):
    """A WeChat push, unique by WeChat's own de-duplication key."""

    app = CharField(max_length=8)
    dedupe_key = CharField(max_length=255, unique=True)
    msg_type = CharField(max_length=32)
    event = CharField(max_length=64, default="")
    from_user = CharField(max_length=64, default="")
    payload = JSONField()
    state = CharField(max_length=16, default="new")
    received_at = DateTimeField(default=utcnow)


class MessageTemplate(BaseModel):
    """A WeChat message template the campaign may send with, and how to fill it."""

    campaign = ForeignKeyField(Campaign, backref="templates", on_delete="CASCADE")
    purpose = CharField(max_length=32)  # deadline | endorsement | review | mailin | general
    channel = CharField(max_length=16)  # wxa_subscribe | mp_template
    template_id = CharField(max_length=128)
    title = CharField(max_length=100)
    long_term = BooleanField(default=False)
    fields = JSONField(default=dict)
    page = CharField(max_length=255, default="")

    class Meta:
        indexes = ((("campaign", "template_id"), True),)


class SubscriptionGrant(BaseModel):
    """What a user accepted in a subscribe popup: one send per one-time accept."""

    user = ForeignKeyField(WechatUser, backref="grants", on_delete="CASCADE")
    template_id = CharField(max_length=128)
    remaining = IntegerField(default=0)
    long_term = BooleanField(default=False)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "template_id"), True),)


class Notice(BaseModel):
    """A message to an audience; its deliveries are the outbox."""

    campaign = ForeignKeyField(Campaign, backref="notices", on_delete="CASCADE")
    title = CharField(max_length=200)
    template = ForeignKeyField(MessageTemplate, on_delete="RESTRICT")
    values = JSONField(default=dict)
    audience = JSONField(default=dict)
    send_at = DateTimeField(null=True)
    auto_key = CharField(max_length=64, null=True)
    state = CharField(max_length=16, default="draft")
    state_reason = CharField(max_length=32, default="")  # why paused (organizer, daily_quota…)
    fallback_template = ForeignKeyField(
        MessageTemplate, null=True, backref="+", on_delete="RESTRICT"
    )  # an official-account template for followers without consent (campaign.notices.operations)
    total = IntegerField(default=0)
    created_by = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    finished_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("campaign", "auto_key"), True), (("state", "send_at"), False))


class Delivery(BaseModel):
    """One notice to one user: claimed, sent and settled exactly once."""

    notice = ForeignKeyField(Notice, backref="deliveries", on_delete="CASCADE")
    user = ForeignKeyField(WechatUser, on_delete="CASCADE")
    state = CharField(max_length=16, default="pending")
    channel = CharField(max_length=16, default="")  # the way it went: wxa_subscribe | mp_template
    errcode = IntegerField(null=True)
    reason = CharField(max_length=255, default="")
    attempts = IntegerField(default=0)
    not_before = DateTimeField(default=utcnow)
    lease_until = DateTimeField(null=True)
    msgid = CharField(max_length=64, null=True, index=True)
    sent_at = DateTimeField(null=True)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("notice", "user"), True),
            (("notice", "state"), False),
            (("state", "lease_until"), False),
        )


# --- Review, selection and after --------------------------------------------------------


class Assignment(BaseModel):
    """An entry given to an expert to score: live once its run is published (or pinned by
    hand). The gate verdict and the overall comment (专家点评) live here, criteria in `Score`."""

    entry = ForeignKeyField(Entry, backref="assignments", on_delete="CASCADE")
    expert = ForeignKeyField(Account, backref="assignments", on_delete="CASCADE")
    comment = TextField(default="")
    submitted_at = DateTimeField(null=True)
    assigned_by = CharField(max_length=64)
    assigned_at = DateTimeField(default=utcnow)
    run = IntegerField(null=True)  # the AssignmentRun that placed it; None when by hand
    pinned = BooleanField(default=False)
    gate = CharField(max_length=8, default="")  # "" | pass | doubt | fail
    gate_remark = TextField(default="")
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("expert", "entry"), True),)


class Score(BaseModel):
    """One criterion's points within an assignment, with an optional remark."""

    assignment = ForeignKeyField(Assignment, backref="scores", on_delete="CASCADE")
    criterion = CharField(max_length=32)
    value = FloatField()
    comment = TextField(default="")

    class Meta:
        indexes = ((("assignment", "criterion"), True),)


class ConflictDeclaration(BaseModel):
    """A hard conflict declared by an expert or an organizer with a unit, a department or an
    entry, or an expert's recusal (回避, `kind="recusal"`): every later run honours it."""

    expert = ForeignKeyField(Account, backref="conflicts", on_delete="CASCADE")
    unit = ForeignKeyField(Unit, null=True, on_delete="CASCADE")
    department = ForeignKeyField(Department, null=True, on_delete="CASCADE")
    entry = ForeignKeyField(Entry, null=True, on_delete="CASCADE")
    reason = TextField(default="")
    created_at = DateTimeField(default=utcnow)
    kind = CharField(max_length=16, default="declared")  # declared | recusal
    created_by = CharField(max_length=64, default="")


class Decision(BaseModel):
    """An organizer's decision on an entry, staged (`pending`) then applied in one go;
    `award` is the outcome: shortlisted (初选), brand, case or none (未入选)."""

    entry = ForeignKeyField(Entry, backref="decisions", unique=True, on_delete="CASCADE")
    award = CharField(max_length=16)  # shortlisted | brand | case | none
    state = CharField(max_length=16, default="pending")  # pending | applied
    reason = TextField(default="")
    decided_by = CharField(max_length=64)
    decided_at = DateTimeField(default=utcnow)
    applied_at = DateTimeField(null=True)


SHORT_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed


def new_token() -> str:
    """128 random bits, URL-safe: guessing one is hopeless, and it says nothing about the row."""
    return secrets.token_urlsafe(16)


def new_short_code() -> str:
    """8 characters a mailroom clerk can type from the cover sheet (32⁸ ≈ 10¹² codes)."""
    return "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(8))


class MailIn(BaseModel):
    """The stamped paper materials a winner must mail in (rules: `campaign.mailin.rules`)."""

    entry = ForeignKeyField(Entry, backref="mailins", unique=True, on_delete="CASCADE")
    # awaiting | received | incomplete | complete
    status = CharField(max_length=16, default="awaiting")
    token = CharField(max_length=64, unique=True, default=new_token)  # in the cover's QR
    short_code = CharField(max_length=16, unique=True, default=new_short_code)  # typed if no QR
    checklist = JSONField(default=dict)  # item code → ticked
    missing = JSONField(default=list)  # item codes, while incomplete
    tracking_no = CharField(max_length=64, default="")
    note = TextField(default="")
    received_at = DateTimeField(null=True)
    received_by = CharField(max_length=64, null=True)
    completed_at = DateTimeField(null=True)
    completed_by = CharField(max_length=64, null=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


class AuditLog(BaseModel):
    """Who changed what, when, with the values before and after. Append-only."""

    campaign = ForeignKeyField(Campaign, null=True, on_delete="SET NULL")
    actor = CharField(max_length=64)
    action = CharField(max_length=64)
    object_type = CharField(max_length=32)
    object_id = CharField(max_length=64)
    before = JSONField(null=True)
    after = JSONField(null=True)
    request_id = CharField(max_length=64, null=True)
    at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("object_type", "object_id"), False), (("campaign", "at"), False))


# --- console (issue 14) ---


class ConsoleLoginCode(BaseModel):
    """A one-time official-account QR shown on the department login page: the browser that
    asked for it (its nonce's hash) is signed in once a department member scans it."""

    scene = CharField(max_length=64, unique=True)
    nonce_hash = CharField(max_length=64)
    ticket = CharField(max_length=255, default="")
    qr_url = CharField(max_length=512, default="")
    expires_at = DateTimeField()
    scanned_by = ForeignKeyField(WechatUser, null=True, on_delete="CASCADE")
    scanned_at = DateTimeField(null=True)
    used_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)


class DepartmentAccount(BaseModel):
    """The fallback for departments: a password console account an organizer issued for a
    department, for members who cannot scan the login QR."""

    account = ForeignKeyField(Account, unique=True, on_delete="CASCADE")
    department = ForeignKeyField(Department, backref="accounts", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)


# --- Publication and 公示 (issue 13) ---


class Publication(BaseModel):
    """One version of a public list (初选名单 or 入选名单), its items frozen at publish time.

    A 递补 publishes the next version; the one before stays viewable as `superseded`.
    `starts_on`/`ends_on` are the 公示 window's dates in the campaign's time zone."""

    campaign = ForeignKeyField(Campaign, backref="publications", on_delete="CASCADE")
    kind = CharField(max_length=16)  # shortlist | final
    version = IntegerField(default=1)
    state = CharField(max_length=16, default="open")  # open | finalized | superseded
    title = CharField(max_length=200)
    intro = TextField(default="")
    contact_text = TextField(default="")
    withheld_label = CharField(max_length=64, default="名称不予公开")
    starts_on = DateField()
    ends_on = DateField()
    reason = TextField(default="")
    previous = ForeignKeyField("self", null=True, on_delete="SET NULL")
    published_by = CharField(max_length=64)
    published_at = DateTimeField(default=utcnow)
    finalized_by = CharField(max_length=64, null=True)
    finalized_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("campaign", "kind", "version"), True),)


class PublicationItem(BaseModel):
    """A frozen line of a published list: what the public saw, whatever the entry became."""

    publication = ForeignKeyField(Publication, backref="items", on_delete="CASCADE")
    entry = ForeignKeyField(Entry, null=True, on_delete="SET NULL")
    position = IntegerField()
    title = CharField(max_length=200)
    unit = CharField(max_length=200)
    unit_withheld = BooleanField(default=False)
    domain = CharField(max_length=32)
    domain_label = CharField(max_length=100)
    region = CharField(max_length=64)
    award = CharField(max_length=16)  # brand | case
    award_label = CharField(max_length=100)

    class Meta:
        indexes = ((("publication", "position"), True),)


class Objection(BaseModel):
    """A real-name objection to a published list, handled as a ticket."""

    publication = ForeignKeyField(Publication, backref="objections", on_delete="CASCADE")
    entry = ForeignKeyField(Entry, null=True, on_delete="SET NULL")
    filer_kind = CharField(max_length=16)  # person | unit | anonymous
    name = CharField(max_length=100, default="")
    phone = SealedPhoneField(default="")
    unit_name = CharField(max_length=200, default="")
    content = TextField()
    received_via = CharField(max_length=8)  # h5 | phone | letter | visit
    postmark_on = DateField(null=True)
    letter_key = CharField(max_length=255, null=True)
    letter_mime = CharField(max_length=64, default="")
    timely = BooleanField(default=True)
    state = CharField(max_length=16, default="received")
    handler = CharField(max_length=64, null=True)
    reply = TextField(default="")
    replied_at = DateTimeField(null=True)
    entered_by = CharField(max_length=64, default="")
    received_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("publication", "state"), False),)


# --- Redeem and exchange (issue 13) ---------------------------------------------------------


class ExchangeSession(BaseModel):
    """A session of the offline exchange (线下交流): when, where, how many seats."""

    campaign = ForeignKeyField(Campaign, backref="exchange_sessions", on_delete="CASCADE")
    title = CharField(max_length=200)
    place = CharField(max_length=200, default="")
    starts_at = DateTimeField()
    ends_at = DateTimeField(null=True)
    capacity = IntegerField()
    seats_per_unit = IntegerField(default=2)
    registration_open = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


class Attendee(BaseModel):
    """A person a winning unit registered for a session: seated or waiting, with a ticket
    whose opaque code the door scans once. The check-in itself is the ticket's first
    `Redemption` (see `campaign.redeem.engine`), not a copy here."""

    campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
    session = ForeignKeyField(ExchangeSession, backref="attendees", on_delete="CASCADE")
    unit = ForeignKeyField(Unit, backref="attendees", on_delete="CASCADE")
    name = CharField(max_length=64)
    phone = SealedPhoneField(default="")
    position = CharField(max_length=64, default="")  # 职务
    status = CharField(max_length=16, default="registered")  # registered | waiting | cancelled
    ticket_code = CharField(max_length=32, unique=True)
    registered_by = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("session", "status"), False), (("session", "unit"), False))


class Redemption(BaseModel):
    """One accepted scan of a code. `first` is True on the one normal redemption of an object
    and NULL on audited forced extras, so a unique index admits exactly one first scan;
    `(kind, object_id, nonce)` is unique so a replayed scan creates nothing."""

    campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
    kind = CharField(max_length=16)  # ticket | mailin
    object_id = IntegerField()
    nonce = CharField(max_length=64)
    first = BooleanField(null=True)
    forced = BooleanField(default=False)
    scanned_at = DateTimeField()
    recorded_at = DateTimeField(default=utcnow)
    by = CharField(max_length=64)
    by_name = CharField(max_length=64, default="")

    class Meta:
        indexes = (
            (("kind", "object_id", "first"), True),
            (("kind", "object_id", "nonce"), True),
        )


# --- review (issue 12) ---


class ExpertProfile(BaseModel):
    """What makes a console account an expert of a campaign: the domains they judge, where
    they work (a department, a unit, or just a name) and how many entries they take."""

    account = ForeignKeyField(Account, backref="expert_profiles", unique=True, on_delete="CASCADE")
    campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
    domains = JSONField(default=list)
    organization = CharField(max_length=200, default="")
    department = ForeignKeyField(Department, null=True, on_delete="SET NULL")
    unit = ForeignKeyField(Unit, null=True, on_delete="SET NULL")
    system = CharField(max_length=32, default="")  # a route code: the organization system
    region = CharField(max_length=64, default="")
    cap = IntegerField(default=120)
    bind_code = CharField(max_length=16, null=True, unique=True)  # binds WeChat, used once
    created_at = DateTimeField(default=utcnow)


class AssignmentRun(BaseModel):
    """One solve: a draft the organizer inspects, then publishes (or discards)."""

    campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
    status = CharField(max_length=16, default="draft")  # draft | published | discarded
    params = JSONField(default=dict)
    pairs = JSONField(default=list)  # [[expert account id, entry id], …]: the whole proposal
    stats = JSONField(default=dict)
    created_by = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    published_by = CharField(max_length=64, null=True)
    published_at = DateTimeField(null=True)
    notice = ForeignKeyField(Notice, null=True, on_delete="SET NULL")

    class Meta:
        indexes = ((("campaign", "status"), False),)


class ReviewHold(BaseModel):
    """An entry taken off the plain ranking: the chair's 政治性 queue (`chair`) or the
    committee re-review (`recheck`, 复核); open until someone rules on it."""

    entry = ForeignKeyField(Entry, backref="holds", on_delete="CASCADE")
    kind = CharField(max_length=8)  # chair | recheck
    state = CharField(max_length=8, default="open")  # open | resolved
    outcome = CharField(max_length=16, default="")  # chair: pass | fail; recheck: keep | …
    note = TextField(default="")
    opened_by = CharField(max_length=64)
    opened_at = DateTimeField(default=utcnow)
    resolved_by = CharField(max_length=64, null=True)
    resolved_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("entry", "kind"), True),)


class PublishedComment(BaseModel):
    """The 专家点评 the public reads beside an awarded entry: one expert's comment or an edited
    synthesis, attributed as the organizer decides (e.g. 专家组点评)."""

    entry = ForeignKeyField(Entry, backref="published_comments", unique=True, on_delete="CASCADE")
    text = TextField()
    attribution = CharField(max_length=100)
    sources = JSONField(default=list)  # the assignment ids it was drawn from
    published_by = CharField(max_length=64)
    published_at = DateTimeField(default=utcnow)


# --- mail-in and casebook (issue 13) ---


class Casebook(BaseModel):
    """One build of the casebook (案例汇编) as PDF and DOCX, by a job that reports progress."""

    campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
    options = JSONField(default=dict)  # photos per case, chosen photos per entry
    status = CharField(max_length=16, default="pending")  # pending | running | ready | failed
    done = IntegerField(default=0)
    total = IntegerField(default=0)
    pdf_key = CharField(max_length=255, null=True)
    pdf_size = BigIntegerField(default=0)
    docx_key = CharField(max_length=255, null=True)
    docx_size = BigIntegerField(default=0)
    error = TextField(null=True)
    requested_by = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    finished_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("campaign", "created_at"), False),)


# --- collection (issue 10) ---


class EntryEndorsement(BaseModel):
    """What a department endorsed: the entry's fields and evidence at that moment, so an
    edit after endorsement can be shown to the department as a diff."""

    entry = ForeignKeyField(Entry, backref="endorsements", on_delete="CASCADE")
    data = JSONField()
    actor = CharField(max_length=64)
    at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("entry", "at"), False),)


class NoticeAnchor(BaseModel):
    """A notice scheduled "T-n days before the deadline": kept so that moving the deadline
    moves the notice too (campaign.settings_admin)."""

    notice = ForeignKeyField(Notice, unique=True, on_delete="CASCADE")
    days = IntegerField()
    time = CharField(max_length=5)


class ExportJob(BaseModel):
    """An organizer's export (entries or units xlsx, one entry's PDF, an evidence ZIP),
    built by a job with progress; `pii` says whether whole phone numbers may appear."""

    campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
    kind = CharField(max_length=16)  # entries | units | entry_pdf | evidence_zip
    params = JSONField(default=dict)
    pii = BooleanField(default=False)
    status = CharField(max_length=16, default="pending")  # pending | running | ready | failed
    done = IntegerField(default=0)
    total = IntegerField(default=0)
    storage_key = CharField(max_length=255, null=True)
    size = BigIntegerField(default=0)
    error = TextField(null=True)
    requested_by = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    finished_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("campaign", "created_at"), False),)


MODELS = [
    Campaign,
    CampaignOption,
    WechatUser,
    Account,
    AuthSession,
    Department,
    DepartmentMember,
    Channel,
    ChannelAsset,
    Attribution,
    Touch,
    FunnelVisitor,
    FunnelCount,
    FunnelSlot,
    FunnelDay,
    FunnelDayChange,
    KitArchive,
    Unit,
    Entry,
    EntryRevision,
    StatusChange,
    LateCode,
    Attachment,
    DuplicatePair,
    InboundEvent,
    MessageTemplate,
    SubscriptionGrant,
    Notice,
    Delivery,
    Assignment,
    Score,
    ConflictDeclaration,
    Decision,
    MailIn,
    AuditLog,
    ConsoleLoginCode,
    DepartmentAccount,
    Publication,
    PublicationItem,
    Objection,
    ExchangeSession,
    Attendee,
    Redemption,
    ExpertProfile,
    AssignmentRun,
    ReviewHold,
    PublishedComment,
    Casebook,
    EntryEndorsement,
    NoticeAnchor,
    ExportJob,
]


def migration_runner() -> Runner:
    """peewee's own runner (`pwmigrate`) over `migrations/`, on the configured database."""
    return Runner(db.obj, str(MIGRATIONS_DIR))


def upgrade_schema() -> list[str]:
    """Apply pending migrations; return their names."""
    return migration_runner().up()
