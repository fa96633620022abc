"""`models.RowInsert`: a one-row INSERT's SQL text is kept per shape, and every INSERT still
sends exactly what peewee itself would, for every model of the app."""

import datetime

import pytest
from peewee import (
    SQL,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    Insert,
    IntegerField,
    Model,
    ModelInsert,
    ValueLiterals,
    fn,
)

import models
from models import (
    AuditLog,
    BaseModel,
    JSONField,
    RowInsert,
    SealedPhoneField,
    Unit,
    WechatUser,
    db,
)
from sealing import unseal

MOMENT = datetime.datetime(2026, 10, 30, 23, 59, 58, 123456)


def every_model() -> list[type]:
    found, waiting = [], list(BaseModel.__subclasses__())
    while waiting:
        model = waiting.pop()
        found.append(model)
        waiting.extend(model.__subclasses__())
    return sorted(found, key=lambda model: model.__name__)


def sample(field):
    """A value of the field's kind, as application code would hand it to peewee."""
    for kind, value in (
        (ForeignKeyField, 7),
        (BooleanField, True),
        (IntegerField, 7),  # BigInteger and SmallInteger are IntegerFields too
        (FloatField, 1.5),
        (DateTimeField, MOMENT),
        (DateField, MOMENT.date()),
        (SealedPhoneField, "13800138000"),
        (JSONField, {"区": ["福州市"], "n": 1}),
    ):
        if isinstance(field, kind):
            return value
    return f"样本{field.name}"


def peewee_own(model, row: dict):
    """The (sql, params) peewee's own ModelInsert builds for the same row."""
    return ModelInsert(model, model._normalize_data(None, row)).sql()


def comparable(params: list) -> list:
    """Sealed phones carry a fresh nonce each time: compare what they hold."""
    return [unseal(p) if isinstance(p, str) and "$enc" in p else p for p in params]


@pytest.mark.parametrize("model", every_model(), ids=lambda model: model.__name__)
def test_a_full_row_is_sent_exactly_as_peewee_sends_it(app, model):
    row = {f.name: sample(f) for f in model._meta.sorted_fields if f is not model._meta.primary_key}
    for _ in range(2):  # the first builds the shape, the second uses it
        sql, params = model.insert(**row).sql()
        own_sql, own_params = peewee_own(model, row)
        assert sql == own_sql
        assert comparable(params) == comparable(own_params)


@pytest.mark.parametrize("model", every_model(), ids=lambda model: model.__name__)
def test_fields_left_out_take_their_defaults_as_peewee_gives_them(app, model):
    row = {
        f.name: sample(f)
        for f in model._meta.sorted_fields
        if f is not model._meta.primary_key and not f.null and f.default is None
    }
    if not row:
        pytest.skip("every field has a default")
    sql, params = model.insert(**row).sql()
    sql, params = model.insert(**row).sql()
    own_sql, own_params = peewee_own(model, row)
    assert sql == own_sql
    inserted = sorted(
        [f for f in model._meta.sorted_fields if f.name in row or f.default is not None],
        key=lambda f: f._sort_key,
    )
    assert len(params) == len(own_params) == len(inserted)
    for field, ours, theirs in zip(inserted, params, own_params, strict=True):
        if callable(field.default) and field.name not in row:  # utcnow(), a fresh token
            assert type(ours) is type(theirs)
        else:
            assert ours == theirs


def test_a_returning_clause_or_an_enclosing_statement_is_rendered_as_peewee_does(app):
    row = {"app": "wxa", "openid": "o-variant", "follower": True, "created_at": MOMENT}
    row["last_seen_at"] = MOMENT
    variants = {
        "plain": lambda insert: insert,
        "returning": lambda insert: insert.returning(WechatUser.id, WechatUser.openid),
        "no returning": lambda insert: insert.returning(),
        "a returning expression": lambda insert: insert.returning(
            fn.COALESCE(WechatUser.nickname, "无名")
        ),
        "with a CTE of its own": lambda insert: insert.with_cte(
            WechatUser.select(WechatUser.id).where(WechatUser.openid == "o-old").cte("old")
        ),
        "inside a CTE": lambda insert: WechatUser.select(WechatUser.id).with_cte(
            insert.returning(WechatUser.id).cte("fresh", columns=("id",))
        ),
    }
    for variant in [*variants.values(), *variants.values()]:  # each shape kept, then used
        ours = variant(WechatUser.insert(**row))
        own = variant(ModelInsert(WechatUser, WechatUser._normalize_data(None, row)))
        assert ours.sql() == own.sql()
        assert str(ours) == str(own)  # values written into the text, as logs show a query
    WechatUser.create(app="wxa", openid="o-source")  # peewee reads an empty query as no data
    query = WechatUser.select(WechatUser.app, WechatUser.openid)  # INSERT … SELECT
    assert WechatUser.insert(query).sql() == ModelInsert(WechatUser, query).sql()


def test_peewee_renders_a_shape_once(app, monkeypatch):
    monkeypatch.setattr(RowInsert, "_shapes", {})
    built = []
    original = Insert._generate_insert

    def counting(self, insert, ctx):
        built.append(sorted(field.name for field in insert[0]))
        return original(self, insert, ctx)

    monkeypatch.setattr(Insert, "_generate_insert", counting)
    WechatUser.create(app="wxa", openid="o-first")
    WechatUser.create(app="wxa", openid="o-second")
    WechatUser.create(app="wxa", openid="o-third", nickname="第三")  # another shape
    WechatUser.create(app="wxa", openid="o-fourth", nickname="第四")
    shape = ["app", "created_at", "follower", "last_seen_at", "openid"]
    assert built == [shape, sorted([*shape, "nickname"])]
    users = WechatUser.select().order_by(WechatUser.id)
    assert [(u.openid, u.nickname) for u in users] == [
        ("o-first", None),
        ("o-second", None),
        ("o-third", "第三"),
        ("o-fourth", "第四"),
    ]


def test_rows_written_through_kept_shapes_read_back_whole(app, campaign):
    owner = WechatUser.create(app="wxa", openid="o-owner")
    for n in range(3):
        Unit.create(campaign=campaign, owner=WechatUser.create(app="wxa", openid=f"o-{n}"))
    unit = Unit.create(
        campaign=campaign,
        owner=owner,  # a model instance for a foreign key
        name="福州市鼓楼区某社区党委",
        contact_phone="0591-87808286",
        phone_verified=True,
        created_at=MOMENT,
    )
    again = Unit.get_by_id(unit.id)
    assert again.owner_id == owner.id
    assert (again.name, again.contact_phone, again.phone_verified) == (
        "福州市鼓楼区某社区党委",
        "0591-87808286",
        True,
    )
    assert again.created_at == MOMENT
    assert again.owner_route == "online"  # a default
    assert Unit.select().count() == 4


@pytest.mark.parametrize(
    "expression",
    [{"actor": SQL("'系统'"), "at": MOMENT}, {"actor": "系统", "at": SQL("CURRENT_TIMESTAMP")}],
    ids=["text", "timestamp"],
)
def test_a_value_that_is_sql_takes_peewee_own_way(app, campaign, expression):
    """An expression is not a parameter: it goes into the statement as SQL, for a text
    field (whose `db_value` would make a string of it) as for a timestamp."""
    row = {"campaign": campaign, "object_type": "unit", "object_id": "1", "action": "a"}
    query = AuditLog.insert(**row, **expression)
    sql, params = query.sql()
    assert sql == peewee_own(AuditLog, {**row, **expression})[0]
    assert "'系统'" in sql or "CURRENT_TIMESTAMP" in sql
    assert not any(isinstance(p, SQL) for p in params)
    written = AuditLog.get_by_id(query.execute())
    assert written.actor == "系统" and written.at is not None
    plain = AuditLog.insert(**row, actor="t", at=MOMENT).execute()  # the same shape
    assert (AuditLog.get_by_id(plain).actor, AuditLog.get_by_id(plain).at) == ("t", MOMENT)


def test_a_conflicting_insert_still_takes_its_on_conflict_clause(app):
    WechatUser.create(app="wxa", openid="o-twice", nickname="一")
    (
        WechatUser.insert(app="wxa", openid="o-twice", nickname="二")
        .on_conflict(
            conflict_target=[WechatUser.app, WechatUser.openid],
            update={WechatUser.nickname: "二"},
        )
        .execute()
    )
    assert [u.nickname for u in WechatUser.select()] == ["二"]


def test_shapes_are_kept_per_database_dialect(app, monkeypatch, tmp_path):
    """The placeholder differs between drivers; a shape kept for one is not reused by the
    other (a process that switched databases, as the test suite's own fixtures do). Without
    RETURNING on either side, only the placeholder tells the two shapes apart."""
    row = {"app": "wxa", "openid": "o-dialect"}
    WechatUser.insert(**row).returning().sql()
    sqlite = models.make_database(f"sqlite:///{tmp_path / 'unused.db'}")
    postgres = models.make_database("postgresql://nobody@127.0.0.1:1/none")
    texts = {}
    for name, database in (("sqlite", sqlite), ("postgres", postgres)):
        monkeypatch.setattr(db, "obj", database)
        texts[name] = WechatUser.insert(**row).returning().sql()[0]
    assert "?" in texts["sqlite"] and "%s" not in texts["sqlite"]
    assert "%s" in texts["postgres"] and "?" not in texts["postgres"]


def test_a_model_instance_for_a_field_that_is_not_a_foreign_key(app, campaign):
    """peewee writes such an instance into the statement (its primary key, as a subquery
    would be); only a foreign key's instance becomes a parameter."""
    user = WechatUser.create(app="wxa", openid="o-instance")
    row = {"campaign": campaign, "owner": user, "name": user}  # a text field's would be "5"
    row |= {"created_at": MOMENT, "updated_at": MOMENT}
    for _ in range(2):
        assert Unit.insert(**row).sql() == peewee_own(Unit, row)


def test_an_explicit_none_is_sent_not_replaced_by_the_default(app):
    row = {"app": "wxa", "openid": "o-none", "follower": None, "nickname": None}
    for _ in range(2):
        sql, params = WechatUser.insert(**row).sql()
        own_sql, own_params = peewee_own(WechatUser, row)
        assert sql == own_sql
        follower = own_sql.split("(", 1)[1].split(")")[0].split(", ").index('"follower"')
        assert params[follower] is None and own_params[follower] is None  # not False


class LowerField(CharField):
    """A field whose `db_value` is SQL, as playhouse's SQLite JSONField's is (`json(?)`)."""

    def db_value(self, value):
        return None if value is None else fn.LOWER(value)


class NotATable(Model):
    """A model outside the app's schema (and outside `every_model`): only the text of its
    INSERTs is looked at, built the app's way."""

    class Meta:
        database = db

    insert = classmethod(BaseModel.insert.__func__)


class Lowered(NotATable):
    """A field whose `db_value` is SQL, and a plain one."""

    name = LowerField()
    label = CharField(null=True)


class NullAsDefaultField(CharField):
    """A field that sends SQL's DEFAULT for None: its placeholder-less rendering must not be
    kept as the shape's text."""

    def db_value(self, value):
        return SQL("DEFAULT") if value is None else value


class Defaulted(NotATable):
    """A field without a value, one whose default is SQL."""

    label = CharField()
    note = NullAsDefaultField(null=True)
    stamp = CharField(default=SQL("'默认'"))


def test_a_default_or_a_placeholder_that_is_sql_takes_peewee_own_way(app):
    for _ in range(2):
        for row in ({"label": "甲"}, {"label": "乙", "note": "备注"}):
            assert Defaulted.insert(**row).sql() == peewee_own(Defaulted, row)
    for _ in range(2):
        row = {"label": "丙", "note": "备注", "stamp": "盖章"}
        assert Defaulted.insert(**row).sql() == peewee_own(Defaulted, row)


def test_a_shape_first_seen_with_values_written_as_literals_is_kept_with_placeholders(
    app, monkeypatch
):
    """peewee's ValueLiterals (partial indexes' WHERE) writes values into the text; such a
    rendering must not become the text every later INSERT of the shape is sent with."""
    monkeypatch.setattr(RowInsert, "_shapes", {})
    row = {"app": "wxa", "openid": "o-literal", "created_at": MOMENT, "last_seen_at": MOMENT}
    literal, _ = db.get_sql_context().sql(ValueLiterals(WechatUser.insert(**row))).query()
    assert "o-literal" in literal
    assert WechatUser.insert(**row).sql() == peewee_own(WechatUser, row)
    assert list(RowInsert._shapes.values())[0] is not None  # kept, not left to peewee


def test_a_db_value_that_is_sql_is_written_into_the_statement_as_peewee_does(app):
    for _ in range(2):
        sql, params = Lowered.insert(name="ABC").sql()
        assert (sql, params) == peewee_own(Lowered, {"name": "ABC"})
        assert "LOWER" in sql and params == ["ABC"]


def test_a_table_column_as_a_key_is_rendered_as_peewee_does(app):
    row = {Lowered.label.column: "标签"}  # a column of the table, not the model's field
    for _ in range(2):
        assert Lowered.insert(row).sql() == ModelInsert(Lowered, row).sql()
