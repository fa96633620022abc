"""Health, readiness, metrics and the error shape, through Flask's client."""

import pytest

from devstack.redis_server import start_redis, stop_redis
from tasks import queue
from tests.conftest import free_port


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_when_everything_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready"}


def test_readyz_follows_redis_down_and_back(client, tmp_path, redis_url):
    port = free_port()
    process = start_redis(port, tmp_path / "redis", appendonly=False)
    queue.init_redis(f"redis://127.0.0.1:{port}/0", socket_timeout=1)
    try:
        assert client.get("/readyz").status_code == 200
        stop_redis(process)
        response = client.get("/readyz")
        assert response.status_code == 503
        body = response.get_json()["error"]
        assert body["code"] == "not_ready"
        assert [f["field"] for f in body["fields"]] == ["redis"]
        process = start_redis(port, tmp_path / "redis", appendonly=False)
        assert client.get("/readyz").status_code == 200
    finally:
        stop_redis(process)
        queue.init_redis(redis_url)


def test_unknown_route_gives_the_json_error_shape(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json() == {
        "error": {"code": "not_found", "message": "请求的内容不存在", "fields": []}
    }


def test_wrong_method_is_json_with_allow(client):
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_unexpected_errors_are_json_500_without_details(app, settings):
    from app import create_app

    fresh = create_app(settings)

    @fresh.get("/__boom")
    def boom():
        raise RuntimeError("secret detail")

    response = fresh.test_client().get("/__boom")
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"
    assert b"secret detail" not in response.data


@pytest.mark.parametrize("incoming, kept", [("abc-123", True), ("<script>", False), ("", False)])
def test_request_id_is_echoed_only_when_sane(client, incoming, kept):
    response = client.get("/healthz", headers={"X-Request-Id": incoming})
    rid = response.headers["X-Request-Id"]
    assert (rid == incoming) is kept
    assert rid


def test_metrics_count_requests(client):
    client.get("/healthz")
    body = client.get("/metrics").get_data(as_text=True)
    assert 'http_requests_total{endpoint="health.healthz",method="GET",status="200"}' in body
