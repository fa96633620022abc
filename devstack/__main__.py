"""`python -m devstack` (what `make run` calls): the whole service on embedded defaults.

Starts, in order: the embedded Redis (when REDIS_URL is unset), the WeChat sandbox (when no
WeChat credentials are set), migrations and the 2021 campaign seed, then the web server,
one RQ worker and the periodic scheduler. Prints the URLs, and on Ctrl-C stops everything
in reverse order.

Every child runs in its own process group, so a terminal's Ctrl-C reaches only this
supervisor: the web server, worker and scheduler stop first and the embedded Redis last,
with no tracebacks from processes that outlived their Redis. A child that dies on its own
is restarted with its exit status logged; one that keeps dying (RESTART_LIMIT times within
RESTART_WINDOW seconds) stops the stack.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import requests

import runtime
from campaign.accounts import create_account
from campaign.definition import seed_default_campaign
from config import load_settings
from devstack.redis_server import start_redis, stop_redis
from models import Account, db, upgrade_schema

PYTHON = sys.executable
DEV_ORGANIZER = ("organizer", "organizer-dev-password")  # development only, printed at start
RESTART_LIMIT = 3
RESTART_WINDOW = 60.0


class Child:
    """One supervised process and how to start it again."""

    def __init__(self, name: str, start: Callable[[], subprocess.Popen]):
        self.name = name
        self.start = start
        self.process = start()
        self.restarts: list[float] = []
        print(f"started {name} (pid {self.process.pid})", flush=True)

    def restart(self) -> bool:
        """Start again unless it already restarted RESTART_LIMIT times within the window."""
        now = time.monotonic()
        self.restarts = [t for t in self.restarts if now - t < RESTART_WINDOW] + [now]
        if len(self.restarts) > RESTART_LIMIT:
            return False
        _reap_group(self.process)  # e.g. a killed RQ worker's scheduler, orphaned
        self.process = self.start()
        print(f"restarted {self.name} (pid {self.process.pid})", flush=True)
        return True


def main() -> int:
    settings = load_settings()
    children: list[Child] = []
    try:
        if settings.embedded_redis:
            port = int(settings.redis_url.rsplit(":", 1)[1].split("/")[0])
            data = settings.instance_dir / "redis"
            children.append(Child("redis", lambda: start_redis(port, data)))
        if settings.wechat_sandbox:
            children.append(Child("sandbox", lambda: _start_sandbox(settings)))
        runtime.bootstrap(settings)
        with db.connection_context():
            upgrade_schema()
            campaign, _ = seed_default_campaign()
            if not Account.select().where(Account.username == DEV_ORGANIZER[0]).exists():
                create_account(*DEV_ORGANIZER, "organizer", "开发环境组织者", campaign)
        children.append(Child("web", lambda: _spawn(_web_command(settings))))
        children.append(Child("worker", lambda: _spawn([PYTHON, "-m", "cli.worker"])))
        children.append(Child("cron", lambda: _spawn([PYTHON, "-m", "cli.cron"])))
        _wait_ready(f"http://127.0.0.1:{settings.port}/readyz")
        _print_urls(settings)
        return _supervise(children)
    except KeyboardInterrupt:  # Ctrl-C while still starting: stop what started, calmly
        return 0
    finally:
        _stop_all(children)


def _web_command(settings) -> list[str]:
    return [
        PYTHON, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
        "--bind", f"127.0.0.1:{settings.port}", "--workers", "2", "app:app",
    ]  # fmt: skip


def _start_sandbox(settings) -> subprocess.Popen:
    base = f"http://127.0.0.1:{settings.port}/wechat"
    apps = [
        {**_app_args(settings.mp), "kind": "mp", "callback_url": f"{base}/mp"},
        {**_app_args(settings.wxa), "kind": "wxa", "callback_url": f"{base}/wxa"},
    ]
    command = [PYTHON, "-m", "wechat.sandbox", "--port", str(settings.sandbox_port)]
    command += ["--state-file", str(settings.instance_dir / "wechat-sandbox.json")]
    for app in apps:
        command += ["--app", json.dumps(app)]
    process = _spawn(command)
    _wait_ready(f"{settings.wechat_api_base}/__admin/state")
    return process


def _app_args(app) -> dict:
    return {"appid": app.appid, "secret": app.secret, "token": app.token, "aes_key": app.aes_key}


def _spawn(command: list[str]) -> subprocess.Popen:
    return subprocess.Popen(command, env=os.environ.copy(), process_group=0)


def _wait_ready(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready within {timeout:.0f}s")


def _print_urls(settings) -> None:
    base = f"http://127.0.0.1:{settings.port}"
    lines = [
        "",
        "征集活动服务已启动 — the campaign service is running:",
        f"  API          {base}/api/v1/campaign",
        f"  health       {base}/healthz   {base}/readyz",
        f"  metrics      {base}/metrics",
        f"  console      {base}/console/  (organizers, experts, departments; docs/console.md)",
        f"  organizer    {DEV_ORGANIZER[0]} / {DEV_ORGANIZER[1]}  (also for the API)",
        f"  database     {settings.database_url}",
        f"  redis        {settings.redis_url}" + (" (embedded)" if settings.embedded_redis else ""),
    ]
    if settings.wechat_sandbox:
        lines.append(f"  wechat       {settings.wechat_api_base} (sandbox; see docs/sandbox.md)")
    lines.append("Press Ctrl-C to stop everything.\n")
    print("\n".join(lines), flush=True)


def _supervise(children: list[Child]) -> int:
    """Run until Ctrl-C/SIGTERM, restarting a child that dies; return a shell exit status."""
    stop = {"requested": False}

    def request_stop(_signum, _frame):
        stop["requested"] = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    while not stop["requested"]:
        for child in children:
            status = child.process.poll()
            if status is None or stop["requested"]:
                continue
            print(f"{child.name} exited with status {status}; restarting it", flush=True)
            if not child.restart():
                print(f"{child.name} keeps exiting; stopping everything", flush=True)
                return 1
        time.sleep(0.5)
    return 0


def _stop_all(children: list[Child]) -> None:
    """Newest first: the scheduler and worker, the web server, the sandbox, Redis last."""
    for child in reversed(children):
        print(f"stopping {child.name}", flush=True)
        process = child.process
        if child.name == "redis":
            stop_redis(process)
            continue
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        _reap_group(process)  # whatever it left behind goes before Redis does


def _reap_group(process: subprocess.Popen) -> None:
    """Kill what is left of a stopped child's process group (its own helpers; RQ's work
    horses have groups of their own and finish their job)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


if __name__ == "__main__":
    sys.exit(main())
