"""The OpenAPI document is valid, matches the routes, and fuzzing it finds no server error."""

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
