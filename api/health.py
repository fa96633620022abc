"""Liveness, readiness and metrics: what load balancers and Prometheus ask."""

from flask import Blueprint, Response, jsonify
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from config import current_settings
from models import db
from tasks.queue import redis_connection

bp = Blueprint("health", __name__)


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
    if current_settings().prometheus_multiproc_dir:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
