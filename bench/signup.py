"""Deadline day on PostgreSQL: distinct unit contacts sign up and submit, through gunicorn.

Each user does what the mini-program does, over real HTTP: WeChat login (`wx.login()` code
exchanged against the loopback WeChat sandbox, in a process of its own), register the unit,
create a complete entry, add a press link as its evidence, submit. The steps run as phases
(every user logs in, then every user registers, …) so each is timed on its own.

Goals (issue 16 item 4): ≥ 500 unit registrations/s and ≥ 200 entry submits/s, 0 errors;
printed as ratios to the goals, beside bare Flask /hello on the same gunicorn as the scale.
Runs only when DATABASE_URL is PostgreSQL, in a scratch database it creates and drops.
Each user arrives from an address of its own (X-Real-IP, as nginx sets it), so the per-IP
login limit applies as in production without throttling the benchmark.
"""

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import loadgen
from bench.stack import ROOT, environment, gunicorn, on_scratch_postgres

GOALS = {"unit": 500.0, "submit": 200.0}  # per second
USERS = 2400
CLIENTS = 8
WORKERS = 4
SECONDS_HELLO = 4.0
PRESS = {"kind": "press", "link": "https://news.example.cn/2021/case.html", "title": "媒体报道"}


def main() -> dict | None:
    return on_scratch_postgres("signup", _run)


def _run(url: str) -> dict:
    with tempfile.TemporaryDirectory() as workdir, environment(Path(workdir), url) as env:
        _helper(env, "open-window")
        sandbox, base, codes = _start_sandbox(USERS)
        try:
            env = {**env, "WEB_CONCURRENCY": str(WORKERS), "WECHAT_API_BASE": base}
            hellos = [[loadgen.get("/hello")] * 20_000 for _ in range(CLIENTS)]
            with gunicorn("bench.hello_app:app", env, workers=WORKERS) as port:
                loadgen.run(port, [r[:200] for r in hellos], 1)  # warm-up
                hello = loadgen.run(port, hellos, SECONDS_HELLO)
            with gunicorn("app:app", env, workers=WORKERS) as port:
                phases = _phases(port, codes)
        finally:
            sandbox.terminate()
            sandbox.join()
        stored = _helper(env, "count")
    return _report(phases, hello, stored)


def _phases(port: int, codes: list[str]) -> dict:
    """Every user through each step in turn; each step's rate, latencies and errors."""
    users = [{"n": n, "ip": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"} for n in range(USERS)]
    for user, code in zip(users, codes, strict=True):
        user["code"] = code
    entry = _complete_entry()
    steps = (
        ("login", lambda u: ("POST", "/api/v1/auth/wxa-login", {"code": u["code"]})),
        ("unit", lambda u: ("PUT", "/api/v1/me/unit", _unit(u))),
        ("entry", lambda u: ("POST", "/api/v1/entries", entry)),
        ("press", lambda u: ("POST", f"/api/v1/entries/{u['entry']}/attachments", PRESS)),
        ("submit", lambda u: ("POST", f"/api/v1/entries/{u['entry']}/submit", {})),
    )
    results = {}
    for name, request in steps:
        ready = [user for user in users if name in ("login", "unit", "entry") or "entry" in user]
        raws = [_raw(*request(user), user) for user in ready]
        answers, result = _run_phase(port, raws)
        result[0].errors += len(users) - len(ready)  # a user an earlier step failed
        for user, (status, body) in zip(ready, answers, strict=True):
            if name == "login" and status == 200:
                user["token"] = body["token"]
            if name == "entry" and status == 201:
                user["entry"] = body["id"]
        results[name] = result
    return results


def _unit(user: dict) -> dict:
    number = user["n"]
    return {
        "name": f"压测社区党委{number}",
        "region": "福州市",
        "domain": "urban",
        "org_level": "党委",
        "contact_name": "王芳",
        "contact_phone": f"138{number:08d}",
    }


def _complete_entry() -> dict:
    """An entry that passes every submit check of the 2021 plan (the tests' complete one)."""
    from tests.factories import COMPLETE

    return dict(COMPLETE)


def _raw(method: str, path: str, body: dict, user: dict) -> bytes:
    data = json.dumps(body, ensure_ascii=False).encode()
    token = f"Authorization: Bearer {user['token']}\r\n" if "token" in user else ""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n{token}"
        f"X-Real-IP: {user['ip']}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


# --- one phase: CLIENTS processes, each a share of the users, fresh connection each ----------


def _call(port: int, raw: bytes) -> tuple[int, dict, float]:
    started = time.perf_counter()
    head, _, body = loadgen.exchange(port, raw, timeout=30).partition(b"\r\n\r\n")
    status = int(head[9:12])
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        parsed = {}
    return status, parsed, time.perf_counter() - started


def _client(port: int, indexed: list[tuple[int, bytes]], out) -> None:
    answers, latencies = [], []
    started = time.perf_counter()
    for index, raw in indexed:
        try:
            status, body, elapsed = _call(port, raw)
        except OSError:
            status, body, elapsed = 0, {}, 0.0
        answers.append((index, status, body if status < 300 else {"error": body}))
        latencies.append(elapsed)
    out.put((started, time.perf_counter(), answers, latencies))


def _run_phase(port: int, raws: list[bytes]):
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    shares = [list(enumerate(raws))[c::CLIENTS] for c in range(CLIENTS)]
    clients = [context.Process(target=_client, args=(port, s, out)) for s in shares]
    for client in clients:
        client.start()
    finished = [out.get() for _ in clients]
    for client in clients:
        client.join()
    answers = [None] * len(raws)
    for _, _, part, _ in finished:
        for index, status, body in part:
            answers[index] = (status, body)
    ok = sum(1 for status, _ in answers if 200 <= status < 300)
    seconds = max(end for _, end, _, _ in finished) - min(start for start, _, _, _ in finished)
    latencies = [lat for *_, lats in finished for lat in lats]
    result = loadgen.Result(ok, len(raws) - ok, seconds, latencies)
    refusals = [body for status, body in answers if not 200 <= status < 300][:3]
    return answers, (result, refusals)


# --- the sandbox, with a login code per user, in its own process ---------------------------


def _serve_sandbox(count: int, ready) -> None:
    from config import SANDBOX_APPS
    from wechat.sandbox.server import Sandbox

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    sandbox = Sandbox()
    for kind, app in SANDBOX_APPS.items():
        sandbox.state.add_app(kind, app["appid"], app["secret"], app["token"], app["aes_key"])
    appid = SANDBOX_APPS["wxa"]["appid"]
    codes = [sandbox.state.login_code(appid, f"o-signup-{n:06d}") for n in range(count)]
    with sandbox.start():
        ready.put((sandbox.url, codes))
        signal.sigwait({signal.SIGTERM})


def _start_sandbox(count: int):
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    process = context.Process(target=_serve_sandbox, args=(count, ready), daemon=True)
    process.start()
    base, codes = ready.get(timeout=120)
    return process, base, codes


# --- helpers run inside the bench environment ----------------------------------------------


def _helper(env: dict, *args: str):
    command = [sys.executable, "-m", "bench.signup", *args]
    done = subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def _command(args: list[str]) -> object:
    import datetime

    import runtime
    from campaign.definition import current_campaign
    from models import Campaign, Entry, Unit, db, utcnow

    runtime.bootstrap()
    with db.connection_context():
        campaign = current_campaign()
        if args[0] == "open-window":  # the 2021 plan's window, moved around today
            now = utcnow()
            Campaign.update(
                opens_at=now - datetime.timedelta(days=10),
                closes_at=now + datetime.timedelta(days=30),
            ).where(Campaign.id == campaign.id).execute()
            return "ok"
        if args[0] == "count":
            submitted = Entry.select().where(Entry.status == "submitted").count()
            return {"units": Unit.select().count(), "submitted": submitted}
    raise SystemExit(f"unknown command {args}")


def _report(phases: dict, hello: loadgen.Result, stored: dict) -> dict:
    print(f"sign-up benchmark (PostgreSQL, gunicorn {WORKERS} sync workers, {CLIENTS} clients,")
    print(f"  {USERS} distinct users, loopback, new connection per request, sandbox WeChat)")
    print(hello.line("bare Flask /hello (scale)"))
    figures = {"hello": hello.rate, "stored": stored}
    for name, (result, refusals) in phases.items():
        print(result.line(f"{name} ({result.requests}/{result.requests + result.errors})"))
        for refusal in refusals:
            print(f"    refused: {json.dumps(refusal, ensure_ascii=False)[:200]}")
        figures[name] = result.rate
        figures[f"{name}_errors"] = result.errors
    for name, goal in GOALS.items():
        ratio = figures[name] / goal
        label = {"unit": "unit registrations", "submit": "entry submits"}[name]
        print(f"ratio to the goal of {goal:.0f} {label}/s: {ratio:.0%} (goal ≥ 100%)")
        figures[f"{name}_ratio"] = ratio
    errors = sum(figures[f"{name}_errors"] for name in phases)
    print(f"errors: {errors} (goal 0); stored: {stored['units']} units, "
          f"{stored['submitted']} submitted entries for {USERS} users")  # fmt: skip
    return figures


if __name__ == "__main__":
    if len(sys.argv) > 1:
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        print(json.dumps(_command(sys.argv[1:])))
    else:
        main()
