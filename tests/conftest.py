"""Test wiring: a real database and a real Redis, clean for every test.

With DATABASE_URL / REDIS_URL set (CI does this for PostgreSQL and the machine's Redis),
the suite runs against them; unset, it uses SQLite in a temporary folder and an embedded
redis-server on a free port, exactly as `make run` would.
"""

import datetime
import gc
import os
import socket
import threading

import pytest

from campaign.definition import seed_default_campaign
from config import load_settings
from devstack.redis_server import start_redis, stop_redis
from models import MODELS, Campaign, db, utcnow
from tasks.queue import redis_connection
from wechat.client import mp_client, wxa_client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    port = free_port()
    process = start_redis(port, tmp_path_factory.mktemp("redis"), appendonly=False)
    yield f"redis://127.0.0.1:{port}/0"
    stop_redis(process)


@pytest.fixture(scope="session")
def sandbox():
    """The WeChat sandbox on a loopback port, for the whole session (reset per test)."""
    from wechat.sandbox.server import Sandbox

    box = Sandbox(push_timeout=2.0).start()
    yield box
    box.stop()


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 emulator on a loopback port (no real S3-compatible server installs here)."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_server):
    """A fresh bucket on the emulator, as `config.S3Settings`."""
    import uuid

    from config import S3Settings
    from storage import s3_client

    settings = S3Settings(
        bucket=f"campaign-{uuid.uuid4().hex[:12]}",
        prefix="uploads",
        endpoint_url=s3_server,
        access_key_id="testing",
        secret_access_key="testing",
    )
    client = s3_client(settings.endpoint_url, settings.region, "testing", "testing", "path")
    client.create_bucket(Bucket=settings.bucket)
    return settings


@pytest.fixture(scope="session")
def settings(tmp_path_factory, redis_url, sandbox):
    instance = tmp_path_factory.mktemp("instance")
    environ = {
        "APP_ENV": "development",
        "INSTANCE_DIR": str(instance),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{instance}/test.db",
        "REDIS_URL": redis_url,
        "PUBLIC_BASE_URL": "https://campaign.example.cn",
        "LOG_LEVEL": "WARNING",
        "WECHAT_API_BASE": sandbox.url,
    }
    return load_settings(environ)


@pytest.fixture(scope="session")
def app(settings):
    from app import create_app
    from models import upgrade_schema

    application = create_app(settings)
    with db.connection_context():
        drop_everything()
        upgrade_schema()
    return application


def drop_everything() -> None:
    """Start the session from an empty schema, whatever an earlier run left behind."""
    tables = [model._meta.table_name for model in MODELS] + ["schema_migration"]
    cascade = " CASCADE" if db.obj.__class__.__name__.startswith("Pooled") else ""
    for table in reversed(tables):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"{cascade}')


@pytest.fixture(scope="session")
def live_server(app):
    """The app on a real loopback socket, so the sandbox can push to its callbacks."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, whole_file_responses(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def read_whole_file(file, block_size=8192):
    """A `wsgi.file_wrapper` that reads the file and closes it before the response starts."""
    with file:
        return [file.read()]


def whole_file_responses(app):
    """werkzeug's test server skips the response's close() when a browser drops the
    connection mid-file and the drain after it hits the reset (a page left before echarts
    finished loading, in a CI run): the file then waits for the collector, whose
    ResourceWarning the suite turns into a failure of whatever test is running."""

    def wsgi(environ, start_response):
        environ["wsgi.file_wrapper"] = read_whole_file
        return app(environ, start_response)

    return wsgi


@pytest.fixture
def no_collector_pauses():
    """For tests that time something against the sandbox or threads of this process: the
    sandbox is WeChat, and a full collection of the suite's heap stalls it 0.4–0.55 s
    (measured late in a PostgreSQL run), which a ten-second rate measurement would count
    against the workers. The workers are processes of their own and keep their collector."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


@pytest.fixture
def wechat(sandbox, live_server, settings):
    """The sandbox with our two apps registered, pushing to the live server."""
    for kind, push_format in (("mp", "xml"), ("wxa", "json")):
        app = getattr(settings, kind)
        sandbox.state.add_app(
            kind,
            app.appid,
            app.secret,
            app.token,
            app.aes_key,
            callback_url=f"{live_server}/wechat/{kind}",
            push_format=push_format,
        )
    return sandbox


@pytest.fixture(autouse=True)
def clean_state(app, sandbox):
    """Every test starts with empty tables, an empty Redis database and a fresh WeChat."""
    yield
    sandbox.state.reset()
    redis_connection().flushdb()
    for client in (mp_client(), wxa_client()):
        client.tokens.forget()  # the tokens it remembers were the old sandbox's
    with db.connection_context():
        truncate_all()


def truncate_all() -> None:
    tables = [model._meta.table_name for model in MODELS]
    if db.obj.__class__.__name__.startswith("Pooled"):
        names = ", ".join(f'"{t}"' for t in tables)
        db.execute_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        return
    with db.atomic():
        for table in reversed(tables):
            db.execute_sql(f'DELETE FROM "{table}"')


@pytest.fixture
def override_settings(app):
    """Change settings for one test, the way a new environment would; restored after."""
    import dataclasses

    from config import current_settings, install

    original = current_settings()

    def override(**changes):
        install(dataclasses.replace(current_settings(), **changes))
        return current_settings()

    yield override
    install(original)


@pytest.fixture
def run_jobs(app):
    """Run every queued job in-process, as a real RQ worker would; return how many ran."""
    from rq import SimpleWorker

    from tasks.queue import QUEUE_NAMES, get_queue

    def run(allow_failures: bool = False) -> int:
        queues = [get_queue(n) for n in QUEUE_NAMES]
        before = [(q.finished_job_registry.count, q.failed_job_registry.count) for q in queues]
        SimpleWorker(queues, connection=redis_connection()).work(burst=True)
        after = [(q.finished_job_registry.count, q.failed_job_registry.count) for q in queues]
        failed = sum(a[1] - b[1] for a, b in zip(after, before, strict=True))
        assert allow_failures or failed == 0, "a job failed: see the log"
        return sum(a[0] - b[0] for a, b in zip(after, before, strict=True))

    return run


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def campaign(app):
    """The 2021 campaign, seeded from the plan."""
    with db.connection_context():
        seeded, _ = seed_default_campaign()
    return seeded


@pytest.fixture
def open_window(campaign):
    """The 2021 campaign, with its window moved around today."""
    now = utcnow()
    Campaign.update(
        opens_at=now - datetime.timedelta(days=10), closes_at=now + datetime.timedelta(days=30)
    ).where(Campaign.id == campaign.id).execute()
    return Campaign.get_by_id(campaign.id)


# Debian's Chromium for the browser tests of every area (tests/console, tests/h5): one
# Playwright per session, since two sync Playwrights cannot run in one process.
@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium under Playwright, for the whole session (skips when missing)."""
    from tests.console.browser import ARGS, CHROMIUM, require_browser

    require_browser()
    from playwright.sync_api import expect, sync_playwright

    # `expect` has its own 5 s default, which the contexts' 15 s does not reach: an autosave
    # (800 ms debounce, then a request) or a chart on a slow CI machine could outlast it.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()
