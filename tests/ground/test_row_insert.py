"""`models.RowInsert`: a one-row INSERT's SQL text is kept per shape, and every INSERT still
sends exactly what peewee itself would, for every model of the app."""

import datetime

import pytest
from peewee import (
    SQL,
    BooleanField,
    DateField,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    Insert,
    IntegerField,
    ModelInsert,
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


def test_shapes_are_kept_per_database_dialect(app, monkeypatch):
    """The placeholder differs between drivers; a shape kept for one is not reused by the
    other (a process that switched databases, as the test suite's own fixtures do)."""
    row = {"app": "wxa", "openid": "o-dialect"}
    WechatUser.insert(**row).sql()
    sqlite = models.make_database("sqlite:///:memory:")
    postgres = models.make_database("postgresql://nobody@127.0.0.1:1/none")
    texts = {}
    for name, database in (("sqlite", sqlite), ("postgres", postgres)):
        monkeypatch.setattr(db, "obj", database)
        texts[name] = WechatUser.insert(**row).sql()[0]
    assert "?" in texts["sqlite"] and "%s" not in texts["sqlite"]
    assert "%s" in texts["postgres"] and "?" not in texts["postgres"]
