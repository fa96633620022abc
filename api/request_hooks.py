"""What every request goes through: a request id, metrics, and the database handed back.

Registered app-wide by `app.py`; kept apart from the health endpoints because every route,
not only `/healthz`, depends on them. The id and the metrics wrap Flask as WSGI middleware
(`RequestEnvelope`) rather than as before/after-request hooks: the hooks' trips through
Flask's context proxies and `Counter.labels` cost about a third of a bare route's time in
the app (cProfile, bench/callback.py and bench/qr.py); the middleware reads the WSGI
environ directly and keeps each label set's metric child.
"""

import os
import time

from flask import Blueprint
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


class RequestEnvelope:
    """WSGI middleware: adopt or make the request id (context variable for logs and audit
    rows, `X-Request-Id` on the response), then count and time the request by endpoint."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        request_id = adopt_request_id(environ)
        token = bind_request_id(request_id)
        seen = ["unmatched", "500"]

        def start(line, headers, exc_info=None):
            headers.append(("X-Request-Id", request_id))
            # Flask answers before it pops the request (which then leaves the environ)
            rule = getattr(environ.get("werkzeug.request"), "url_rule", None)
            seen[:] = (rule.endpoint if rule is not None else "unmatched", line[:3])
            return start_response(line, headers, exc_info)

        try:
            return self.wsgi_app(environ, start)
        finally:
            unbind_request_id(token)
            observe(seen[0], environ.get("REQUEST_METHOD", ""), seen[1], started)


def adopt_request_id(environ) -> str:
    """The caller's `X-Request-Id` (nginx's `$request_id`) when sane, else a new one."""
    incoming = environ.get("HTTP_X_REQUEST_ID", "")
    return incoming if _is_sane_id(incoming) else os.urandom(8).hex()


_counters: dict[tuple[str, str, str], object] = {}
_timers: dict[str, object] = {}


def observe(endpoint: str, method: str, status: str, started: float) -> None:
    """Count and time one answered request (each label set's metric child kept)."""
    key = (endpoint, method, status)
    counter = _counters.get(key) or _counters.setdefault(key, REQUESTS.labels(*key))
    counter.inc()
    timer = _timers.get(endpoint) or _timers.setdefault(endpoint, LATENCY.labels(endpoint))
    timer.observe(time.perf_counter() - started)


bp.record_once(lambda state: setattr(state.app, "wsgi_app", RequestEnvelope(state.app.wsgi_app)))


@bp.teardown_app_request
def _release(_exc):
    if not db.is_closed():
        db.close()


def _is_sane_id(value: str) -> bool:
    return 0 < len(value) <= 64 and all(c.isalnum() or c in "-_." for c in value)
