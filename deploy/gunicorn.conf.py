"""Gunicorn settings for the web process: ``gunicorn -c deploy/gunicorn.conf.py app:app``.

Everything is read from the environment, so the same file serves docker compose, systemd and a
developer's shell. Why each choice:

worker_class = "sync"
    Measured on this stack: sync workers kept the WeChat callback p99 far below WeChat's 5 s retry
    deadline at every concurrency tried; gevent's p99 passed 1-3 s. A sync worker serves one request
    at a time, so it must never face a slow client directly: nginx buffers request bodies (uploads
    included) and responses, and gunicorn only ever talks to nginx.
workers = WEB_CONCURRENCY, else 2 x cores + 1
    Gunicorn's rule of thumb. "Cores" honours the CPU affinity mask and a cgroup v2 CPU quota, so a
    container limited to 2 CPUs on a 64-core host starts 5 workers, not 129. Each worker holds one
    database connection while it serves a request: size PostgreSQL's max_connections for the sum
    over all hosts (docs/deploy.md, "Scaling out").
bind = 0.0.0.0:$PORT (default 8000)
    Inside compose the port is not published; only nginx reaches it. The systemd unit overrides it
    with --bind 127.0.0.1:8000 on a bare host.
preload_app = False
    The app is imported in each worker after fork, so every worker opens its own database pool and
    Redis connections (sockets inherited across fork corrupt each other). It also means a HUP
    (systemctl reload campaign-web) loads new code into fresh workers without dropping requests.
timeout = 30, graceful_timeout = 30
    A request still running after 30 s is a bug or a stuck dependency: the worker is killed and
    replaced. Anything slow (WeChat calls, QR kits, exports, video) runs in RQ jobs. On SIGTERM,
    in-flight requests get 30 s to finish; the systemd unit and compose wait 45 s before SIGKILL.
max_requests = 50000, max_requests_jitter = 5000
    Recycles each worker after ~50,000 requests to bound slow memory growth; the jitter keeps the
    workers from restarting all at once. Not lower: a worker restart re-imports the whole app
    (hundreds of ms), and at deadline-day rates (callbacks and scans at hundreds per second) a
    limit of 1,000 would restart every worker every few seconds.
accesslog = "-" (stdout), one JSON object per line
    The same keys as the app's own log lines (ts, level, logger, msg, request_id; logs.py).
    request_id is the X-Request-Id response header: the app adopts nginx's $request_id, so one id
    ties the nginx line, the gunicorn line and the app's lines together. Also: client address
    (X-Forwarded-For, which nginx overwrites with the real peer), method, path, status, bytes,
    duration. The query string is deliberately left out: WeChat callbacks carry openid and
    signatures there, and OAuth redirects carry single-use codes. Values are JSON-escaped
    (gunicorn's own escaping only handles double quotes).
forwarded_allow_ips = FORWARDED_ALLOW_IPS, else 127.0.0.1,::1
    Only a trusted proxy may tell gunicorn the request was HTTPS. compose sets "*" for the web
    service (its port is reachable only on the internal network); a bare host keeps the loopback
    default. Only X-Forwarded-Proto is honoured: nginx overwrites it, whereas a client-supplied
    X-Forwarded-Ssl could otherwise contradict it and turn requests into 400s.
limit_request_line / limit_request_fields / limit_request_field_size
    Gunicorn's defaults (4094 bytes / 100 fields / 8190 bytes) are kept on purpose: nginx in front
    allows 8 KB header lines, WeChat and the mini-program send small headers, and body sizes are
    capped by nginx and the app (UPLOAD_MAX_MB on the attachment endpoint, 2 MB elsewhere).
worker_tmp_dir = /dev/shm when writable
    The heartbeat file is fchmod'ed constantly; on a disk-backed overlay filesystem that can stall a
    worker long enough to be killed as "timed out".
control_socket_disable = True
    Worker count is owned by WEB_CONCURRENCY and the process manager, not changed at run time.
PROMETHEUS_MULTIPROC_DIR (optional)
    With several workers, each has its own metric registry. When this variable is set (compose and
    the systemd unit set it for the web process only), the directory is emptied at start and a dead
    worker's live gauges are removed, as prometheus_client's multiprocess mode requires; /metrics
    then aggregates all workers.
"""

import json
import math
import os
from datetime import UTC, datetime

from gunicorn.glogging import Logger, SafeAtoms


def _cpu_count():
    """Usable CPUs: the affinity mask, capped by a cgroup v2 quota when one is set."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:
        count = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            count = min(count, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return count


def _env_int(name, default):
    """An integer from the environment; unset or empty means the default."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _wsgi_text(value):
    """WSGI hands over paths and headers as latin-1 strings; show UTF-8 (e.g. Chinese) readably."""
    text = str(value)
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


class _JsonAtoms(SafeAtoms):
    """Access-log atoms escaped for use inside a JSON string literal, each when the format
    reads it: gunicorn hands over every request and response header and every WSGI environ
    entry, and the format reads 14 of them (escaping them all was a third of a line's cost)."""

    def __init__(self, atoms):
        dict.__init__(self, atoms)

    def __getitem__(self, key):
        return json.dumps(_wsgi_text(super().__getitem__(key)), ensure_ascii=False)[1:-1]


class JsonAccessLogger(Logger):
    """Gunicorn's logger with JSON-safe access-log atoms and ISO 8601 UTC timestamps."""

    atoms_wrapper_class = _JsonAtoms

    def now(self):
        """UTC with milliseconds, the same shape as the app's own JSON log lines (logs.py)."""
        return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --- Server socket and workers ---------------------------------------------------------------
bind = f"0.0.0.0:{os.environ.get('PORT', '').strip() or '8000'}"
worker_class = "sync"
workers = _env_int("WEB_CONCURRENCY", 2 * _cpu_count() + 1)
preload_app = False
timeout = 30
graceful_timeout = 30
max_requests = 50000
max_requests_jitter = 5000
worker_tmp_dir = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
control_socket_disable = True
proc_name = "campaign-web"

# --- Proxy trust -----------------------------------------------------------------------------
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}

# --- Logging ---------------------------------------------------------------------------------
loglevel = os.environ.get("LOG_LEVEL", "info").strip().lower() or "info"
errorlog = "-"
accesslog = "-"
logger_class = JsonAccessLogger
access_log_format = (
    '{"ts": "%(t)s", "level": "INFO", "logger": "gunicorn.access", "msg": "%(m)s %(U)s %(s)s", '
    '"request_id": "%({x-request-id}o)s", "client": "%({x-forwarded-for}i)s", "method": "%(m)s", '
    '"path": "%(U)s", "status": %(s)s, "bytes": "%(b)s", "duration_ms": %(M)s, '
    '"referer": "%(f)s", "user_agent": "%(a)s", "pid": "%(p)s"}'
)


# --- Hooks -----------------------------------------------------------------------------------
def on_starting(server):
    """Give prometheus_client's multiprocess mode an empty directory for this run."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        return
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))


def child_exit(server, worker):
    """Drop a dead worker's live gauges from the multiprocess metrics."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
