"""Instructions per request, counted by valgrind's callgrind: independent of the machine's
load, so it shows what a change saved even on a busy 2-core box where req/s wander ±20%.

Each target is called in-process as WSGI (no gunicorn, whose cost is the same for every
target), once with 0 and once with N requests; the difference over N is the app's own cost
per request. The Redis server's work is not counted (another process), the client's is.

`python -m bench.instructions [hello peer callback scan ...]` (needs `apt-get install
valgrind`; about a minute per target).
"""

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.stack import ROOT, environment

COUNT = 300
TARGETS = ("hello", "peer", "callback", "scan", "healthz")


APPS = {"hello": "hello", "peer": "peer", "callback": "app", "scan": "app", "healthz": "app"}


def _environs(app_name: str) -> tuple[object, dict[str, list[dict]]]:
    """The WSGI app and COUNT + 50 requests for each of its targets (all of them built in
    every run, so that building them cancels out of the difference)."""
    from werkzeug.test import EnvironBuilder

    def get(path: str, headers=None) -> dict:
        return EnvironBuilder(path=path, headers=headers or {}).get_environ()

    n = COUNT + 50
    if app_name == "hello":
        from bench.hello_app import app

        return app, {"hello": [get("/hello") for _ in range(n)]}
    if app_name == "peer":
        from bench.wechat_peer import app
    else:
        from app import app
    from bench.callback import Pushes
    from config import load_settings

    source = Pushes(load_settings({}).mp)  # after the import: pushes must be fresh
    source.serial = int.from_bytes(os.urandom(4), "big")  # distinct across runs
    pushes = []
    for path, body in source.take(n):
        route, query = path.split("?", 1)
        pushes.append(
            EnvironBuilder(
                path=route, query_string=query, method="POST", data=body, content_type="text/xml"
            ).get_environ()
        )
    if app_name == "peer":
        return app, {"peer": pushes}
    from bench.qr import WECHAT_UA

    code, ua = os.environ["BENCH_SCAN_CODE"], {"User-Agent": WECHAT_UA}
    scans = [
        get(f"/q/{code}", {**ua, **({"Cookie": f"cv=v{i:015d}"} if i % 2 else {})})
        for i in range(n)
    ]  # fmt: skip
    return app, {"callback": pushes, "scan": scans, "healthz": [get("/healthz")] * n}


def _child(target: str, count: int) -> None:
    """Warm every target of the app up on 50 requests, then serve `count` of `target`'s."""
    app, environs = _environs(APPS[target])

    def call(environ):
        status = []
        b"".join(app(environ, lambda s, h, e=None: status.append(s)))
        if status[0][:1] not in "23":
            raise SystemExit(f"{target}: {status[0]}")

    for requests in environs.values():
        for environ in requests[:50]:
            call(dict(environ))
    for environ in environs[target][50 : 50 + count]:
        call(environ)


def _run(target: str, count: int, env: dict) -> int:
    with tempfile.TemporaryDirectory() as out:
        command = [
            "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg",
            sys.executable, "-m", "bench.instructions", "child", target, str(count),
        ]  # fmt: skip
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(done.stderr[-2000:])
        return int(re.search(r"Collected : (\d+)", done.stderr).group(1))


def main(targets: tuple[str, ...] = TARGETS) -> dict:
    from bench.qr import seed

    with tempfile.TemporaryDirectory() as workdir, environment(Path(workdir)) as env:
        env = {
            **env,
            "BENCH_SCAN_CODE": seed(env, 1)[0],
            "PYTHONHASHSEED": "0",
            "WECHAT_CALLBACK_MAX_AGE": "3600",  # valgrind runs slowly; pushes must stay fresh
        }
        baselines = {}
        costs = {}
        for target in targets:
            app_name = APPS[target]
            if app_name not in baselines:
                baselines[app_name] = _run(target, 0, env)
            costs[target] = (_run(target, COUNT, env) - baselines[app_name]) / COUNT
    print("instructions per request (callgrind, in-process WSGI, no gunicorn)")
    for target, cost in costs.items():
        print(f"  {target:<10} {cost / 1000:8.0f} k")
    if "peer" in costs and "callback" in costs:
        print(f"  callback/peer: {costs['callback'] / costs['peer']:.2f}")
    if "hello" in costs and "scan" in costs:
        print(f"  scan/hello: {costs['scan'] / costs['hello']:.2f}")
    return costs


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        _child(sys.argv[2], int(sys.argv[3]))
    else:
        main(tuple(sys.argv[1:]) or TARGETS)
