"""What a benchmark runs against: an embedded Redis, a migrated SQLite database, gunicorn.

Everything is started with the production gunicorn configuration (deploy/gunicorn.conf.py)
so both sides of a comparison run on identical servers.
"""

import contextlib
import os
import runpy
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from devstack.redis_server import start_redis, stop_redis

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def environment(workdir: Path, database_url: str | None = None):
    """An embedded Redis plus the environment variables pointing the app at it and at SQLite
    (or at `database_url`, migrated and seeded the same way)."""
    port = free_port()
    redis = start_redis(port, workdir / "redis", appendonly=False)
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "INSTANCE_DIR": str(workdir),
        "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "LOG_LEVEL": "WARNING",
        "PUBLIC_BASE_URL": "https://bench.example.cn",
        **({"DATABASE_URL": database_url} if database_url else {}),
    }
    try:
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
            env=env, cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "campaign", "seed"],
            env=env, cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
        yield env
    finally:
        stop_redis(redis)


def deployed_workers() -> int:
    """The worker count deploy/gunicorn.conf.py chooses here (WEB_CONCURRENCY, else 2 × cores
    + 1), read from the config itself; `environment()` hands gunicorn this environment."""
    return runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))["workers"]


@contextlib.contextmanager
def gunicorn(target: str, env: dict, workers: int | None = 2):
    """gunicorn serving `target` (e.g. `app:app`) with the production config; yields its port.
    `workers=None` leaves the count to the config, as in production."""
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
        "--bind", f"127.0.0.1:{port}", *(("--workers", str(workers)) if workers else ()),
        "--access-logfile", "/dev/null", target,
    ]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def on_scratch_postgres(name: str, run):
    """`run(url)` on a scratch PostgreSQL database created beside DATABASE_URL's and dropped
    after; None, with a line saying how to run it, when DATABASE_URL is not PostgreSQL."""
    from urllib.parse import urlparse, urlunparse

    url = os.environ.get("DATABASE_URL", "")
    if urlparse(url).scheme not in ("postgres", "postgresql"):
        print(f"{name} benchmark skipped: it needs PostgreSQL. Run it with")
        print("  DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test make bench")
        print("(it creates and drops its own scratch database next to the one named)")
        return None
    import psycopg2

    scratch = f"bench_{name}_{os.getpid()}"
    admin = psycopg2.connect(url)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{scratch}"')
    try:
        return run(urlunparse(urlparse(url)._replace(path=f"/{scratch}")))
    finally:
        from models import db

        if db.obj is not None:  # the benchmark used it in this process
            if not db.is_closed():
                db.close()
            db.obj.close_all()
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        admin.close()
