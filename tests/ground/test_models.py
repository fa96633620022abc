"""The migrations are the schema, and models.py must agree with them."""

import peewee
import pytest
from playhouse.pool import PooledPostgresqlDatabase
from playhouse.schema_diff import diff_models

from models import MODELS, Campaign, Delivery, Notice, WechatUser, db, make_database


def test_migrations_build_exactly_the_models(app):
    """After `upgrade_schema()` (done by the app fixture), nothing differs from models.py."""
    with db.connection_context():
        diff = diff_models(db.obj, MODELS)
        assert not diff, str(diff)
        for model in MODELS:
            columns = {c.name: c.null for c in db.get_columns(model._meta.table_name)}
            expected = {f.column_name: f.null for f in model._meta.sorted_fields}
            assert columns == expected, model.__name__


def test_schema_diff_notices_a_missing_column(app):
    """The check above can fail: a model with an extra field is reported."""

    class Campaign2(Campaign):
        brand_new = peewee.CharField(default="")

        class Meta:
            table_name = "campaign"

    with db.connection_context():
        diff = diff_models(db.obj, [Campaign2])
    assert [f.name for f in diff.add_columns] == ["brand_new"]


def test_one_delivery_per_notice_and_user(campaign):
    from campaign.definition import options  # noqa: F401 - campaign fixture seeds options
    from models import MessageTemplate

    user = WechatUser.create(app="wxa", openid="o-1")
    template = MessageTemplate.create(
        campaign=campaign, purpose="deadline", channel="wxa_subscribe", template_id="t", title="t"
    )
    notice = Notice.create(campaign=campaign, title="n", template=template, created_by="test")
    Delivery.create(notice=notice, user=user)
    with pytest.raises(peewee.IntegrityError), db.atomic():
        Delivery.create(notice=notice, user=user)


def test_insert_new_rows_skips_what_a_unique_key_holds_and_stores_values_as_peewee_would(app):
    from models import insert_new_rows, utcnow

    with db.connection_context():
        moment = utcnow().replace(microsecond=123456)
        fields = [WechatUser.app, WechatUser.openid, WechatUser.created_at, WechatUser.follower]
        WechatUser.create(app="wxa", openid="o-taken", follower=False)
        insert_new_rows(fields, [("wxa", "o-taken", moment, True), ("wxa", "o-新", moment, True)])
        insert_new_rows(fields, [])
        rows = {u.openid: u for u in WechatUser.select()}
        assert sorted(rows) == ["o-taken", "o-新"]
        assert rows["o-taken"].follower is False  # the existing row was left alone
        assert rows["o-新"].created_at == moment and rows["o-新"].follower is True
        assert rows["o-新"].last_seen_at is not None  # a default, as insert_many gives it


def test_openid_is_unique_per_app(app):
    WechatUser.create(app="wxa", openid="o-1")
    WechatUser.create(app="mp", openid="o-1")
    with pytest.raises(peewee.IntegrityError), db.atomic():
        WechatUser.create(app="wxa", openid="o-1")


def test_sqlite_runs_in_wal_mode(tmp_path):
    database = make_database(f"sqlite:///{tmp_path}/x.db")
    database.connect()
    assert database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    database.close()


def test_postgres_urls_get_a_connection_pool():
    database = make_database("postgresql://user:p%40ss@db.example:6543/campaign", pool_size=7)
    assert isinstance(database, PooledPostgresqlDatabase)
    assert database.connect_params["password"] == "p@ss"
    assert database.connect_params["port"] == 6543
    assert database._max_connections == 7


def test_unknown_database_scheme_is_refused():
    with pytest.raises(ValueError, match="mysql"):
        make_database("mysql://root@localhost/x")
