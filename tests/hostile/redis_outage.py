"""A Redis of the test's own, on a known port, that the test may kill and bring back.

The session's Redis is shared by every test; killing it would break the rest of the run.
This one replaces the process-wide connection for the duration of one test.
"""

import subprocess
from pathlib import Path

import pytest

from devstack.redis_server import start_redis, stop_redis
from tasks.queue import init_redis


class OwnRedis:
    def __init__(self, port: int, data_dir: Path):
        self.port = port
        self.data_dir = data_dir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = start_redis(self.port, self.data_dir, appendonly=False)

    def kill(self) -> None:
        """SIGKILL: no goodbye, no save, the queue is gone."""
        self.process.kill()
        self.process.wait()


@pytest.fixture
def own_redis(settings, tmp_path):
    from tests.conftest import free_port

    redis = OwnRedis(free_port(), tmp_path / "own-redis")
    redis.start()
    init_redis(redis.url, socket_timeout=2.0)
    try:
        yield redis
    finally:
        init_redis(settings.redis_url)
        if redis.process.poll() is None:
            stop_redis(redis.process)
