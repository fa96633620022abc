"""No 500 from input, anywhere (issue 11, item 3).

Walks every operation of api/openapi.yaml that takes a JSON body and sends it each hostile
shape, as a caller allowed to reach the handler (so the body is really read):

- a lone UTF-16 surrogate (`"\\ud800"`) and a NUL in every string property, and as a key;
- nesting past the reader's depth limit, and far past Python's recursion limit;
- an array with more members than the reader's limit;
- integers far outside any database column in every integer property (and negative);
- a body over the request size limit.

Every answer must be a 4xx (overflowing integers: anything but a 5xx, since a handler may
rightly ignore a field). The empty PATCH, the organizer filter overflow and the concurrent
first `PUT /me/unit` each have their own test below.
"""

import json
import threading

import pytest

from api.payload import MAX_DEPTH, MAX_MEMBERS
from campaign.sessions import issue_token
from models import Channel, Department, DepartmentMember, Entry, Unit, WechatUser
from pages.api_docs import METHODS, openapi
from tests.factories import UNIT, Organizer
from tests.factories import WechatCaller as Caller

READER_CODES = {"invalid_text", "too_deep", "too_many_items", "invalid_json"}
ANONYMOUS = {"/api/v1/text/count", "/api/v1/auth/wxa-login", "/api/v1/console/login"}


def json_operations() -> list[tuple[str, str, dict]]:
    document = openapi()
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" in content:
                schema = resolve(document, content["application/json"].get("schema", {}))
                found.append((method, path, schema))
    return found


def resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        node = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    for key in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(key, []):
            merged = resolve(document, part)
            schema = {
                **schema,
                "properties": {**schema.get("properties", {}), **merged.get("properties", {})},
            }
    return schema


def property_types(schema: dict) -> dict[str, str]:
    return {
        name: (spec.get("type") or "string")
        for name, spec in (schema.get("properties") or {}).items()
    }


def raw(value) -> bytes:
    """JSON text with non-ASCII escaped, so a lone surrogate travels as `\\ud800`."""
    return json.dumps(value, ensure_ascii=True).encode()


def deep(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


def hostile_bodies(schema: dict) -> list[tuple[str, bytes]]:
    bodies = [
        ("surrogate key", raw({"\ud800": "x"})),
        ("nul key", raw({"a\x00": "x"})),
        ("too deep", deep(MAX_DEPTH + 5)),
        ("recursion", deep(100_000)),
        ("too many", raw({"items": list(range(MAX_MEMBERS + 1))})),
        ("too many keys", raw({f"k{i}": 1 for i in range(MAX_MEMBERS + 1)})),
        ("bare surrogate", raw("\ud800")),
        ("nested surrogate", raw({"a": [{"b": "ok\udfff"}]})),
    ]
    for name, kind in property_types(schema).items():
        if kind == "string":
            bodies.append((f"{name}=surrogate", raw({name: "单位\ud800"})))
            bodies.append((f"{name}=nul", raw({name: "单位\x00"})))
        elif kind == "array":
            bodies.append((f"{name}=[surrogate]", raw({name: ["\udbff"]})))
        elif kind == "object":
            bodies.append((f"{name}={{surrogate}}", raw({name: {"\ud800": "\ud800"}})))
    return bodies


def overflow_bodies(schema: dict) -> list[tuple[str, bytes]]:
    bodies = []
    for name, kind in property_types(schema).items():
        if kind in ("integer", "number"):
            bodies += [
                (f"{name}=10**30", raw({name: 10**30})),
                (f"{name}=-10**30", raw({name: -(10**30)})),
            ]
    return bodies + [("size", b'{"a": "' + b"x" * (3 * 1024 * 1024) + b'"}')]


@pytest.fixture
def world(client, open_window):
    """One of everything a path parameter can name, and a caller for each audience."""
    unit = Caller(client, "o-hostile-unit")
    assert unit.put("/api/v1/me/unit", json=UNIT).status_code == 201
    entry = Entry.create(
        campaign=open_window,
        unit=Unit.get(Unit.owner == unit.user),
        owner=unit.user,
        route="online",
    )
    organizer = Organizer(client, open_window, "hostile-organizer")
    department = Department.create(
        campaign=open_window, name="厦门市委组织部", route="org_dept", invite_code="HOSTILE-1"
    )
    channel = Channel.create(
        campaign=open_window, department=department, route="org_dept", code="hostile123"
    )
    officer = WechatUser.create(app="wxa", openid="o-hostile-officer")
    DepartmentMember.create(department=department, user=officer)
    officer_token, _ = issue_token(officer)
    ids = {
        "entry_id": entry.id,
        "department_id": department.id,
        "channel_id": channel.id,
        "user_id": unit.user.id,
        "unit_id": Unit.get(Unit.owner == unit.user).id,
        "template_id": 1,
        "notice_id": 1,
        "attachment_id": 1,
    }
    tokens = {"unit": unit.token, "organizer": organizer.token, "department": officer_token}
    return ids, tokens


class AnyId(dict):
    """Ids of the world; any other path id is 1 (an object that may not exist: a 404 is a
    4xx too), so operations added later are walked without a list to keep."""

    def __missing__(self, key):
        return 1


def call(client, world, method: str, path: str, body: bytes):
    ids, tokens = world
    url = path.format_map(AnyId(ids))
    if path in ANONYMOUS:
        headers = {}
    elif path.startswith("/api/v1/org/"):
        headers = {"Authorization": f"Bearer {tokens['organizer']}"}
    elif path.startswith("/api/v1/dept/"):
        headers = {"Authorization": f"Bearer {tokens['department']}"}
    else:
        headers = {"Authorization": f"Bearer {tokens['unit']}"}
    return getattr(client, method)(url, data=body, content_type="application/json", headers=headers)


OPERATIONS = json_operations()


def test_the_walk_covers_every_json_operation():
    assert len(OPERATIONS) >= 30  # the document's JSON operations, not a sample


@pytest.mark.parametrize(
    "method, path, schema", OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
def test_hostile_bodies_get_a_4xx(client, world, method, path, schema):
    failures, read = [], 0
    for shape, body in hostile_bodies(schema):
        response = call(client, world, method, path, body)
        if not 400 <= response.status_code < 500:
            failures.append((shape, response.status_code, response.get_data(as_text=True)[:200]))
        elif (response.get_json() or {}).get("error", {}).get("code") in READER_CODES:
            read += 1
    for shape, body in overflow_bodies(schema):
        response = call(client, world, method, path, body)
        if response.status_code >= 500:
            failures.append((shape, response.status_code, response.get_data(as_text=True)[:200]))
    assert failures == []


def test_the_reader_names_each_refusal(client, world):
    answers = {
        shape: call(client, world, "post", "/api/v1/text/count", body).get_json()["error"]["code"]
        for shape, body in hostile_bodies({"properties": {"text": {"type": "string"}}})
    }
    assert answers == {
        "surrogate key": "invalid_text",
        "nul key": "invalid_text",
        "too deep": "too_deep",
        "recursion": "too_deep",
        "too many": "too_many_items",
        "too many keys": "too_many_items",
        "bare surrogate": "invalid_text",
        "nested surrogate": "invalid_text",
        "text=surrogate": "invalid_text",
        "text=nul": "invalid_text",
    }


def test_nul_in_a_query_string_is_a_400(client, world):
    ids, tokens = world
    response = client.get(
        "/api/v1/org/entries?status=%00", headers={"Authorization": f"Bearer {tokens['organizer']}"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_text"


@pytest.mark.parametrize("value", ["99999999999999999999", "2147483648", "-1", "0", "x"])
def test_organizer_filters_out_of_range_are_a_422(client, world, value):
    _, tokens = world
    response = client.get(
        f"/api/v1/org/entries?department={value}",
        headers={"Authorization": f"Bearer {tokens['organizer']}"},
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0]["field"] == "department"


@pytest.mark.parametrize(
    "path", ["/api/v1/org/departments/{department_id}", "/api/v1/org/channels/{channel_id}"]
)
def test_an_empty_patch_changes_nothing(client, world, path):
    response = call(client, world, "patch", path, b"{}")
    assert response.status_code == 200, response.get_json()


def test_concurrent_first_unit_registrations_make_one_unit(app, open_window):
    user = WechatUser.create(app="wxa", openid="o-racing-unit")
    token, _ = issue_token(user)
    barrier = threading.Barrier(8)
    statuses = []

    def register(index: int):
        client = app.test_client()
        barrier.wait()
        response = client.put(
            "/api/v1/me/unit",
            json={**UNIT, "contact_name": f"联系人{index}"},
            headers={"Authorization": f"Bearer {token}"},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(status in (200, 201) for status in statuses), statuses
    assert Unit.select().where(Unit.owner == user).count() == 1


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("福州\u202e市委\u202c组织部", "福州市委组织部"),
        ("福州\u200b市委\u200d组织部\ufeff", "福州市委组织部"),
        ("福州\x1b[31m市委\x07组织部", "福州[31m市委组织部"),
        ("福州\n市委\t组织部", "福州 市委 组织部"),
    ],
)
def test_names_lose_invisible_characters(client, world, typed, stored):
    ids, tokens = world
    organizer = {"Authorization": f"Bearer {tokens['organizer']}"}
    created = client.post(
        "/api/v1/org/departments", json={"name": typed, "route": "org_dept"}, headers=organizer
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["name"] == stored
    label = client.patch(
        f"/api/v1/org/channels/{ids['channel_id']}", json={"label": typed}, headers=organizer
    )
    assert label.get_json()["label"] == stored
    unit = client.put(
        "/api/v1/me/unit",
        json={**UNIT, "name": typed, "contact_name": "王\u200b芳\u202e"},
        headers={"Authorization": f"Bearer {tokens['unit']}"},
    )
    assert (unit.get_json()["name"], unit.get_json()["contact_name"]) == (stored, "王芳")


def test_a_name_of_only_invisible_characters_is_required(client, world):
    _, tokens = world
    response = client.post(
        "/api/v1/org/departments",
        json={"name": "\u200b\u202e\x7f", "route": "org_dept"},
        headers={"Authorization": f"Bearer {tokens['organizer']}"},
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0]["code"] == "required"


def test_themes_have_a_documented_maximum(client, world):
    ids, tokens = world
    response = client.patch(
        f"/api/v1/entries/{ids['entry_id']}",
        json={"themes": [f"t{i}" for i in range(11)]},
        headers={"Authorization": f"Bearer {tokens['unit']}"},
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0]["code"] == "too_many"


def test_people_names_from_wechat_and_the_console_are_cleaned(app):
    from campaign.accounts import create_account
    from campaign.users import upsert_user

    user = upsert_user("mp", "o-nick", nickname="小\u202e王\u200b")
    assert WechatUser.get_by_id(user.id).nickname == "小王"
    account = create_account("clean-name", "organizer-password", "organizer", "组织\u202e者\x00")
    assert account.display_name == "组织者"
