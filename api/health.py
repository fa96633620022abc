"""Liveness, readiness and metrics: what load balancers and Prometheus ask."""

import os
import time

from flask import Blueprint, Response, g, jsonify, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from logs import bind_request_id, unbind_request_id
from models import db
from tasks.queue import redis_connection

bp = Blueprint("health", __name__)

REQUESTS = Counter("http_requests_total", "HTTP requests", ["endpoint", "method", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


@bp.get("/healthz")
def healthz():
    """The process is up and serving requests."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """The database and Redis answer; 503 with the failing parts otherwise."""
    problems = {}
    try:
        db.execute_sql("SELECT 1").fetchone()
    except Exception as exc:  # any driver error means "not ready"
        problems["database"] = type(exc).__name__
    try:
        redis_connection().ping()
    except Exception as exc:
        problems["redis"] = type(exc).__name__
    if problems:
        body = {
            "error": {
                "code": "not_ready",
                "message": "服务暂时不可用，请稍后再试",
                "fields": [{"field": name, "code": reason} for name, reason in problems.items()],
            }
        }
        return jsonify(body), 503
    return jsonify(status="ready")


@bp.get("/metrics")
def metrics():
    """Prometheus metrics; aggregated across gunicorn workers when multiprocess mode is on."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


@bp.before_app_request
def _start_request():
    incoming = request.headers.get("X-Request-Id", "")
    g.request_id = incoming if _is_sane_id(incoming) else os.urandom(8).hex()
    g.request_token = bind_request_id(g.request_id)
    g.request_started = time.perf_counter()


@bp.after_app_request
def _finish_request(response):
    response.headers["X-Request-Id"] = g.get("request_id", "")
    endpoint = request.endpoint or "unmatched"
    REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
    LATENCY.labels(endpoint).observe(time.perf_counter() - g.get("request_started", 0))
    return response


@bp.teardown_app_request
def _release(_exc):
    if not db.is_closed():
        db.close()
    token = g.pop("request_token", None)
    if token is not None:
        unbind_request_id(token)


def _is_sane_id(value: str) -> bool:
    return 0 < len(value) <= 64 and all(c.isalnum() or c in "-_." for c in value)
