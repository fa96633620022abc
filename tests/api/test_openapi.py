"""The OpenAPI document is valid, matches the routes, and fuzzing it finds no server error."""

import json
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from campaign.accounts import create_account
from campaign.sessions import issue_token
from models import Unit, WechatUser
from pages.api_docs import METHODS, openapi

DOCUMENTED_OUTSIDE_API = {"/healthz", "/readyz"}


def flask_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_every_api_route_is_documented_and_nothing_more(app):
    routes = {
        (flask_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") or rule.rule in DOCUMENTED_OUTSIDE_API
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {
        (path, method)
        for path, item in openapi()["paths"].items()
        for method in item
        if method in METHODS
    }
    assert routes - documented == set(), "routes missing from api/openapi.yaml"
    assert documented - routes == set(), "api/openapi.yaml documents routes that do not exist"


def test_served_as_json_and_as_a_page(client):
    assert client.get("/openapi.json").get_json()["openapi"].startswith("3.0")
    page = client.get("/docs/api").get_data(as_text=True)
    assert "/api/v1/entries/{entry_id}/submit" in page


schema = schemathesis.openapi.from_dict(openapi())


@pytest.fixture
def callers(campaign):
    """A unit contact with a unit and an organizer: the fuzzer calls as each in turn."""
    user = WechatUser.create(app="wxa", openid="o-fuzz")
    Unit.create(campaign=campaign, owner=user, name="单位")
    unit_token, _ = issue_token(user)
    organizer = create_account("fuzz-org", "fuzzing-password", "organizer", "组织者", campaign)
    organizer_token, _ = issue_token(organizer)
    return [unit_token, organizer_token]


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_fuzzing_finds_no_server_error(case, app, callers, wechat):
    from schemathesis.checks import not_a_server_error

    for token in callers:
        response = case.call(app=app, headers={"Authorization": f"Bearer {token}"})
        case.validate_response(response, checks=(not_a_server_error,))


# --- hostile shapes (issue 11) ------------------------------------------------------------


def _leaves(value, change):
    """`value` with `change` applied to every scalar leaf (keys of objects too, for strings)."""
    if isinstance(value, dict):
        return {_leaves(k, change): _leaves(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_leaves(v, change) for v in value]
    return change(value)


HOSTILE_SHAPES = {
    "surrogate": lambda body: _leaves(body, lambda v: v + "\ud800" if isinstance(v, str) else v),
    "overflow": lambda body: _leaves(
        body, lambda v: 10**30 if isinstance(v, int) and not isinstance(v, bool) else v
    ),
    "depth": lambda body: {**body, "nested": _nest(64)} if isinstance(body, dict) else _nest(64),
    "size": lambda body: {**body, "items": list(range(20_000))} if isinstance(body, dict) else body,
}


def _nest(levels: int):
    value = 1
    for _ in range(levels):
        value = {"a": value}
    return value


@schema.parametrize()
@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_fuzzing_with_hostile_shapes_finds_no_server_error(case, app, callers, wechat):
    """The generated bodies again, each with lone surrogates in every string, integers far
    past any column, nesting past the reader's limit, or an oversized list."""
    if case.body is None or not isinstance(case.body, (dict, list, str, int)):
        return
    client = app.test_client()
    for name, shape in HOSTILE_SHAPES.items():
        body = json.dumps(shape(case.body))  # ASCII escapes: the surrogate travels as \ud800
        for token in callers:
            response = client.open(
                case.formatted_path,
                method=case.method,
                query_string=case.query,
                data=body,
                content_type="application/json",
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code < 500, (name, case.method, case.formatted_path)
