"""`POST /api/v1/text/count` through Flask's client."""

import pytest


def test_counts_with_the_server_rule(client):
    response = client.post("/api/v1/text/count", json={"text": "2021年4月，福建省开展活动。"})
    assert response.status_code == 200
    assert response.get_json() == {"count": 13}


def test_empty_text_is_zero(client):
    assert client.post("/api/v1/text/count", json={"text": ""}).get_json() == {"count": 0}


@pytest.mark.parametrize("body", [{"text": 5}, {}, {"text": None}])
def test_missing_or_wrong_type_is_422(client, body):
    response = client.post("/api/v1/text/count", json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == [{"field": "text", "code": "required"}]


@pytest.mark.parametrize("data", [b"not json", b"[1, 2]", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_400(client, data):
    response = client.post("/api/v1/text/count", data=data, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"


def test_oversized_body_is_json_413(client):
    response = client.post(
        "/api/v1/text/count", data=b"x" * (3 * 1024 * 1024), content_type="application/json"
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
