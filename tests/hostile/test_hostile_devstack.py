"""`make run` (issue 11, item 9): a terminal Ctrl-C stops the children newest first with
Redis last and no tracebacks; a child that dies is restarted with the reason logged."""

import os
import re
import signal
import subprocess
import sys
import threading
import time

from tests.conftest import free_port
from tests.ground.test_devstack import wait_for


def test_ctrl_c_stops_in_reverse_order_and_a_dead_child_is_restarted(tmp_path):
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL") and not key.startswith("WECHAT_")
    }
    env.update(
        INSTANCE_DIR=str(tmp_path),
        PORT=str(port),
        SANDBOX_PORT=str(free_port()),
        EMBEDDED_REDIS_PORT=str(free_port()),
    )
    stack = subprocess.Popen(
        [sys.executable, "-m", "devstack"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own group, as a terminal gives `make run`
    )
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(line.decode(errors="replace") for line in stack.stdout),
        daemon=True,
    )
    reader.start()

    def seen(pattern: str, timeout: float = 60) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(lines):
                if found := re.search(pattern, line):
                    return found
            time.sleep(0.2)
        raise AssertionError(f"{pattern!r} not in output:\n{''.join(lines)[-3000:]}")

    try:
        wait_for(f"http://127.0.0.1:{port}/readyz")
        worker = int(seen(r"started worker \(pid (\d+)\)").group(1))
        os.kill(worker, signal.SIGKILL)
        seen(r"worker exited with status -9; restarting it")
        seen(r"restarted worker \(pid \d+\)")
        assert wait_for(f"http://127.0.0.1:{port}/readyz").json() == {"status": "ready"}
        time.sleep(2)  # let the new worker connect before the stop
    finally:
        os.killpg(stack.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole group
        stack.wait(timeout=90)
        reader.join(timeout=10)
        stack.stdout.close()
    output = "".join(lines)
    assert stack.returncode == 0, output[-3000:]
    order = re.findall(r"^stopping (\w+)$", output, re.MULTILINE)
    assert order == ["cron", "worker", "web", "sandbox", "redis"]
    assert "Traceback" not in output, output[-3000:]
