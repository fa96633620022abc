"""A node of the service, as an operator runs one: gunicorn with the production config and
an RQ worker (`python -m cli.worker`), with an instance folder of its own; every node shares
one database, one Redis and one bucket."""

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.conftest import free_port
from tests.notice_helpers import WorkerProcesses

ROOT = Path(__file__).resolve().parents[2]


def node_environment(settings, redis_url: str, bucket, instance: Path, **extra) -> dict:
    """The environment of one node: shared database, Redis, bucket and WeChat sandbox."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTICE_", "WECHAT_", "S3_"))}
    env.update(
        APP_ENV="development",
        INSTANCE_DIR=str(instance),
        DATABASE_URL=settings.database_url,
        REDIS_URL=redis_url,
        WECHAT_API_BASE=settings.wechat_api_base,
        PUBLIC_BASE_URL=settings.public_base_url,
        LOG_LEVEL="WARNING",
        RQ_WORKER_TTL="20",
        RQ_MAINTENANCE_INTERVAL="5",
        S3_BUCKET=bucket.bucket,
        S3_PREFIX=bucket.prefix,
        S3_ENDPOINT_URL=bucket.endpoint_url,
        S3_ACCESS_KEY_ID=bucket.access_key_id,
        S3_SECRET_ACCESS_KEY=bucket.secret_access_key,
        WEB_CONCURRENCY="2",
        **extra,
    )
    return env


class Node:
    def __init__(self, name: str, env: dict, folder: Path):
        self.name, self.env, self.folder = name, env, folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        with open(folder / "gunicorn.log", "ab") as log:
            self.web = subprocess.Popen(
                [
                    sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
                    "--bind", f"127.0.0.1:{self.port}", "app:app",
                ],
                cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True,
            )  # fmt: skip
        self.workers = WorkerProcesses(env, log_dir=folder)
        self.workers.start(1)
        self._wait_ready()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill_worker(self) -> None:
        for process in self.workers.alive():
            self.workers.kill(process)

    def stop(self) -> None:
        self.workers.stop()
        if self.web.poll() is None:
            self.web.terminate()
            self.web.wait(timeout=30)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.web.poll() is not None:
                break
            time.sleep(0.3)
        raise AssertionError(f"node {self.name} did not start; see {self.folder}")
