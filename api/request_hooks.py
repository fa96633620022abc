"""What every request goes through: a request id, metrics, and the database handed back.

Registered app-wide by `app.py`; kept apart from the health endpoints because every route,
not only `/healthz`, depends on them.
"""

import os
import time

from flask import Blueprint, g, request
from prometheus_client import Counter, Histogram

from logs import bind_request_id, unbind_request_id
from models import db

bp = Blueprint("request_hooks", __name__)

REQUESTS = Counter("http_requests_total", "HTTP requests", ["endpoint", "method", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


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
