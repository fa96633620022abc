"""`models.Prepared`: a hot query's SQL is built once, and every call still gets its own
values, rows of the right shape, and the joined holder."""

import datetime

import pytest

from campaign.sessions import _LIVE_SESSION, _digest, issue_token, live_session, user_of
from models import Prepared, ServerStatement, WechatUser, db, utcnow


def test_the_sql_is_built_once_and_each_call_gets_its_own_values(app):
    builds = []

    def by_openid(openid):
        builds.append(openid)
        return WechatUser.select().where(WechatUser.openid == openid).limit(1)

    lookup = Prepared(by_openid, "prepared-sample")
    first = WechatUser.create(app="wxa", openid="o-first")
    second = WechatUser.create(app="wxa", openid="o-second")
    assert lookup.first("o-first").id == first.id
    assert lookup.first("o-second").id == second.id
    assert lookup.first("o-nobody") is None
    assert builds == ["prepared-sample"]  # compiled once, from the sample


def test_a_sample_that_does_not_reach_the_sql_unchanged_builds_every_time(app):
    builds = []

    def by_id(raw):
        builds.append(raw)
        return WechatUser.select().where(WechatUser.id == int(raw)).limit(1)

    lookup = Prepared(by_id, "0")  # the string becomes an int: no slot to fill
    user = WechatUser.create(app="wxa", openid="o-int")
    assert lookup.first(str(user.id)).id == user.id
    assert builds == ["0", str(user.id)]


def test_the_session_query_keeps_its_join_and_its_clock(app):
    user = WechatUser.create(app="wxa", openid="o-session")
    token, _ = issue_token(user)
    assert user_of(live_session(token)).openid == "o-session"
    session = _LIVE_SESSION.first(_LIVE_SESSION._samples[0], utcnow())
    assert session is None  # the sample digest matches nothing
    later = utcnow() + datetime.timedelta(days=365)
    assert _LIVE_SESSION.first(_digest(token), later) is None  # expired by then


def test_the_column_layout_is_worked_out_once_and_each_read_gets_its_own_rows(
    app, campaign, monkeypatch
):
    """Peewee's per-read `initialize` runs for the first row only; later reads, with other
    holders, an account instead of a user, and no current campaign, still come out whole."""
    from peewee import ModelCursorWrapper

    from campaign.accounts import create_account
    from campaign.sessions import account_of
    from models import Campaign

    layouts = []
    original = ModelCursorWrapper.initialize

    def counted(wrapper):
        layouts.append(wrapper)
        original(wrapper)

    monkeypatch.setattr(ModelCursorWrapper, "initialize", counted)
    session_of = Prepared(_LIVE_SESSION._build, *_LIVE_SESSION._samples)
    now = utcnow()
    users = [WechatUser.create(app="wxa", openid=f"o-layout-{n}") for n in range(3)]
    tokens = [issue_token(user)[0] for user in users]
    for user, token in zip(users, tokens, strict=True):
        session = session_of.first(_digest(token), now)
        assert user_of(session).openid == user.openid
        assert session.current_campaign.slug == campaign.slug
    account = create_account("layout", "correct horse battery", "organizer", "组织者", campaign)
    console = session_of.first(_digest(issue_token(account)[0]), now)
    assert user_of(console) is None and account_of(console).username == "layout"
    Campaign.update(is_current=False).execute()
    alone = session_of.first(_digest(tokens[0]), now)
    assert alone.user.openid == "o-layout-0"
    assert getattr(alone.current_campaign, "id", None) is None
    assert len(layouts) == 1


def test_a_prepared_update_changes_only_its_rows_and_counts_them(app):
    builds = []

    def rename(user_id, openid):
        builds.append(user_id)
        return WechatUser.update(openid=openid).where(WechatUser.id == user_id)

    update = Prepared(rename, 10**12 + 11, "prepared-sample:openid")
    first = WechatUser.create(app="wxa", openid="o-before")
    second = WechatUser.create(app="wxa", openid="o-untouched")
    assert update.execute(first.id, "o-after") == 1
    assert update.execute(10**12 + 12, "o-nobody") == 0
    assert WechatUser.get_by_id(first.id).openid == "o-after"
    assert WechatUser.get_by_id(second.id).openid == "o-untouched"
    assert builds == [10**12 + 11]


def test_the_hot_queries_are_prepared(app):
    """Their samples reach the SQL unchanged; otherwise each send, save or submit would build
    them again."""
    from api.access import _ENTRY_OF_OWNER, _UNIT_OF_OWNER
    from campaign.notices.outbox import _CLAIM, _SENT

    for statement in (_CLAIM, _SENT, _UNIT_OF_OWNER, _ENTRY_OF_OWNER):
        statement._compile()
        assert statement._compiled[1] is not None


def test_statements_sent_together_commit_or_fail_as_one(app):
    """`execute_together`: on PostgreSQL one query string, on SQLite one transaction; either
    way a failing last statement takes the earlier ones with it."""
    from peewee import IntegrityError

    from models import execute_together

    first = WechatUser.create(app="wxa", openid="o-together-1")
    second = WechatUser.create(app="wxa", openid="o-together-2")
    rename = WechatUser.update(openid="o-renamed").where(WechatUser.id == first.id).sql()
    touch = WechatUser.update(follower=True).where(WechatUser.id == second.id).sql()
    assert execute_together([rename, touch]) == 1
    assert WechatUser.get_by_id(first.id).openid == "o-renamed"
    assert WechatUser.get_by_id(second.id).follower is True

    undo = WechatUser.update(openid="o-undone").where(WechatUser.id == first.id).sql()
    clash = WechatUser.update(openid="o-together-2").where(WechatUser.id == first.id).sql()
    assert not db.in_transaction()
    with pytest.raises(IntegrityError):
        execute_together([undo, clash])  # (app, openid) is unique
    assert WechatUser.get_by_id(first.id).openid == "o-renamed"


# --- prepared on the PostgreSQL server ------------------------------------------------


@pytest.fixture
def on_postgres(app):
    if not getattr(db.obj, "prepares", False):
        pytest.skip("server-side prepares are PostgreSQL's")


def _by_openid():
    return Prepared(
        lambda openid: WechatUser.select().where(WechatUser.openid == openid).limit(1),
        "prepared-sample:server",
    )


def test_a_connection_prepares_a_statement_once_then_executes_it(on_postgres):
    from bench.roundtrips import counting

    users = [WechatUser.create(app="wxa", openid=f"o-server-{n}") for n in range(3)]
    lookup = _by_openid()
    with counting() as statements:
        found = [lookup.first(user.openid).id for user in users]
        assert lookup.first("o-nobody") is None
    assert found == [user.id for user in users]
    assert _kinds(statements) == ["prepare", *["EXECUTE"] * 4], statements


def _kinds(statements: list[str]) -> list[str]:
    return ["prepare" if s.startswith(ServerStatement.MARK) else s.split()[0] for s in statements]


def test_a_statement_prepared_in_a_rolled_back_transaction_stays_prepared(on_postgres):
    from bench.roundtrips import counting

    user = WechatUser.create(app="wxa", openid="o-rollback")
    lookup = _by_openid()
    with counting() as statements:
        with pytest.raises(RuntimeError), db.atomic():
            assert WechatUser.select().count() == 1  # the transaction has begun on the server
            assert lookup.first("o-rollback").id == user.id  # prepared inside it
            raise RuntimeError("undo")
        assert lookup.first("o-rollback").id == user.id  # still prepared on the server
    assert _kinds(statements) == ["BEGIN;", "prepare", "EXECUTE", "ROLLBACK", "EXECUTE"]


def test_a_session_that_holds_the_statement_unnoted_prepares_it_anew(on_postgres):
    """An RQ work-horse may inherit its parent's connection: what an earlier work-horse
    prepared on that session is missing from this one's notes. Preparing again must work."""
    user = WechatUser.create(app="wxa", openid="o-inherited")
    lookup = _by_openid()
    assert lookup.first("o-inherited").id == user.id
    db.connection().prepared.clear()  # a later work-horse's copy of the notes
    assert lookup.first("o-inherited").id == user.id


@pytest.fixture
def widened_nickname(on_postgres):
    """Change the type of a column the statements return, from another connection, as a
    migration run beside live workers would; put it back afterwards."""
    import psycopg2

    params = {k: v for k, v in db.obj.connect_params.items() if k != "connection_factory"}
    other = psycopg2.connect(dbname=db.obj.database, **params)
    other.autocommit = True

    def alter(length: int):
        db.close()  # hand the connection back: ALTER TABLE waits for no open transaction
        with other.cursor() as cursor:
            cursor.execute(f"ALTER TABLE wechat_user ALTER COLUMN nickname TYPE varchar({length})")

    yield alter
    alter(100)
    other.close()


def test_a_statement_outdated_by_a_migration_is_prepared_again(widened_nickname):
    """PostgreSQL refuses to run a prepared statement whose result columns changed type
    ("cached plan must not change result type"). Outside a transaction the read is sent again
    after preparing anew; inside one, that transaction fails once and the next use works."""
    from peewee import DatabaseError

    user = WechatUser.create(app="wxa", openid="o-migrated", nickname="王芳")
    lookup = _by_openid()
    assert lookup.first("o-migrated").nickname == "王芳"
    widened_nickname(101)
    assert lookup.first("o-migrated").nickname == "王芳"  # prepared again, no error
    widened_nickname(102)
    with pytest.raises(DatabaseError), db.atomic():
        assert WechatUser.select().count() == 1
        lookup.first("o-migrated")
    assert lookup.first("o-migrated").id == user.id


def test_a_prepare_the_server_refused_is_sent_again(on_postgres):
    """In a transaction that already failed, PREPARE fails too; it is not noted as done, so
    the next use prepares it instead of executing a statement the server never kept."""
    from peewee import DatabaseError

    user = WechatUser.create(app="wxa", openid="o-refused")
    lookup = _by_openid()
    with pytest.raises(DatabaseError), db.atomic():
        with pytest.raises(DatabaseError):
            db.execute_sql("SELECT 1 / 0")
        lookup.first("o-refused")  # the transaction is aborted: PREPARE is refused
    assert lookup.first("o-refused").id == user.id


def test_an_id_beyond_the_columns_range_matches_nothing(on_postgres):
    """Parameters are declared with their sample's type (bigint), not inferred from the
    `integer` column: a huge id finds no row instead of failing."""
    from api.access import _ENTRY_OF_OWNER

    user = WechatUser.create(app="wxa", openid="o-huge")
    assert _ENTRY_OF_OWNER.first(10**15, user.id) is None


def test_every_prepared_query_prepares_and_runs_on_the_server(on_postgres):
    """Each of the app's hot queries, with its own samples: the server accepts its PREPARE
    (parameter types included) and its EXECUTE."""
    import gc

    hot = [o for o in gc.get_objects() if isinstance(o, Prepared)]
    assert len(hot) >= 8, hot
    for statement in hot:
        statement._compile()
        if statement._server is None:
            continue
        if statement._compiled[1].sql()[0].lstrip().upper().startswith("SELECT"):
            statement.rows(*statement._samples)
        else:
            statement.execute(*statement._samples)


def test_prepares_can_be_turned_off(on_postgres, monkeypatch):
    from bench.roundtrips import counting

    monkeypatch.setattr(db.obj, "prepares", False)
    user = WechatUser.create(app="wxa", openid="o-plain")
    lookup = _by_openid()
    with counting() as statements:
        assert lookup.first("o-plain").id == user.id
    assert statements[0].startswith("SELECT"), statements
