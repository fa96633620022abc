"""`make run`'s stack (`python -m devstack`) comes up on embedded defaults and stops cleanly."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

from tests.conftest import free_port


def wait_for(url: str, timeout: float = 60) -> requests.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = requests.get(url, timeout=2)
            if response.ok:
                return response
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout}s")


@pytest.mark.slow
def test_the_whole_stack_runs_and_stops(tmp_path):
    port, sandbox_port, redis_port = free_port(), free_port(), free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL") and not key.startswith("WECHAT_")
    }
    env.update(
        INSTANCE_DIR=str(tmp_path),
        PORT=str(port),
        SANDBOX_PORT=str(sandbox_port),
        EMBEDDED_REDIS_PORT=str(redis_port),
    )
    stack = subprocess.Popen(
        [sys.executable, "-m", "devstack"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(line.decode(errors="replace") for line in stack.stdout)
    )
    reader.start()
    try:
        assert wait_for(f"http://127.0.0.1:{port}/readyz").json() == {"status": "ready"}
        campaign = wait_for(f"http://127.0.0.1:{port}/api/v1/campaign").json()
        assert campaign["theme"] == "新时代，新党建，新作为"
        assert wait_for(f"http://127.0.0.1:{sandbox_port}/__admin/state").ok
        deadline = time.monotonic() + 60  # the stack's own readiness poll ends after ours
        while not any("Press Ctrl-C" in line for line in lines) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stack.send_signal(signal.SIGINT)
        stack.wait(timeout=60)
        reader.join(timeout=10)
        stack.stdout.close()
    output = "".join(lines)
    assert stack.returncode == 0, output[-2000:]
    assert "Press Ctrl-C to stop everything." in output
    for stopped in (port, sandbox_port, redis_port):
        try:
            socket.create_connection(("127.0.0.1", stopped), timeout=1).close()
        except ConnectionRefusedError:
            continue
        raise AssertionError(f"port {stopped} still listens after Ctrl-C")
