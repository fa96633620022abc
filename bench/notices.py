"""A 100,000-recipient notice end to end against the WeChat sandbox, with no rate limit: the
fan-out's time, the outbox's send throughput beside what the sandbox alone takes from the
same number of plain HTTP clients, and the peak memory of a worker (with its work-horse).
BENCH_NOTICE_RATE=<n> runs it under a rate limit instead and compares with that rate;
BENCH_NOTICE_RECIPIENTS and BENCH_NOTICE_WORKERS change the size. With DATABASE_URL naming
PostgreSQL it runs there (a scratch database), as a province's deployment would; else SQLite.

The sandbox runs in a process of its own (it would otherwise share a GIL with this one),
seeded in memory with every recipient and their one-time consent. Goal (DESIGN §8): every
delivery settled, nobody sent twice.
"""

import multiprocessing
import os
import signal
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import requests

from bench.stack import environment, on_scratch_postgres
from config import load_settings

RECIPIENTS = int(os.environ.get("BENCH_NOTICE_RECIPIENTS", "100000"))
# One worker per send chain (NOTICE_SENDERS, 4): with fewer, a chain waits for a free worker.
WORKERS = int(os.environ.get("BENCH_NOTICE_WORKERS", "4"))
RATE = float(os.environ.get("BENCH_NOTICE_RATE", "0"))  # e.g. 200: also check ≥ 95% of it
TEMPLATE = "tpl-bench"
RAW_TEMPLATE = "tpl-bench-long-term"  # long-term: the raw clients spend no consent
KEYS = {"thing1": "thing", "time2": "time"}
FIELDS = {"thing1": {"source": "campaign_title"}, "time2": {"source": "deadline"}}
RAW_SECONDS = 8.0
SETTLE_GOAL = 120.0  # seconds for 100,000 recipients with no rate limit (issue #16)
RATE_GOAL = 0.95  # share of a configured rate held


def main() -> dict:
    """On PostgreSQL when DATABASE_URL names one (a scratch database beside it), else SQLite."""
    if urlparse(os.environ.get("DATABASE_URL", "")).scheme in ("postgres", "postgresql"):
        return on_scratch_postgres("notices", _run)
    return _run(None)


def _run(database_url: str | None) -> dict:
    settings = load_settings({})
    openids = [f"o-bench-{n:06d}" for n in range(RECIPIENTS)]
    database = "PostgreSQL" if database_url else "SQLite"
    with tempfile.TemporaryDirectory() as workdir, environment(Path(workdir), database_url) as env:
        sandbox, base = _start_sandbox(settings, openids)
        env = {**env, "WECHAT_API_BASE": base, "NOTICE_SEND_RATE": str(RATE)}
        try:
            raw = _raw_rate(base, settings.wxa, WORKERS)
            before = _cpu_seconds(sandbox.pid)
            figures = _send_notice(env, openids, base)
            figures["sandbox_cpu_ms"] = (
                (_cpu_seconds(sandbox.pid) - before) * 1000 / figures["sent"]
            )
        finally:
            sandbox.terminate()
            sandbox.join()
    ratio = figures["send_rate"] / raw
    limit = f"rate limit {RATE:g}/s" if RATE else "no rate limit"
    print(
        f"notice benchmark ({RECIPIENTS:,} recipients, {WORKERS} RQ workers, {database}, "
        f"sandbox in its own process, {limit})"
    )
    print(f"{'fan-out':<30}{RECIPIENTS:>9,} rows in {figures['fanout_s']:6.1f} s "
          f"({RECIPIENTS / figures['fanout_s']:,.0f} rows/s)")  # fmt: skip
    print(f"{'outbox sends':<30}{figures['send_rate']:9.0f} sends/s "
          f"({figures['sent']:,} in {figures['send_s']:.1f} s)")  # fmt: skip
    print(f"{'sandbox alone':<30}{raw:9.0f} sends/s ({WORKERS} plain HTTP clients)")
    print(f"ratio outbox/sandbox alone: {ratio:.0%}")
    if RATE:
        print(f"ratio outbox/configured rate: {figures['send_rate'] / RATE:.1%} "
              f"(goal ≥ {RATE_GOAL:.0%})")  # fmt: skip
    print(f"{'settled end to end':<30}{figures['total_s']:9.1f} s; "
          f"sent twice: {figures['duplicates']}; undecided: {figures['open']}")  # fmt: skip
    if not RATE:
        goal = SETTLE_GOAL * RECIPIENTS / 100_000
        print(f"ratio goal/time (goal < {goal:.0f} s for {RECIPIENTS:,}): "
              f"{goal / figures['total_s']:.2f}")  # fmt: skip
    print(f"{'CPU per message':<30}{figures['worker_cpu_ms']:9.2f} ms in the workers, "
          f"{figures['sandbox_cpu_ms']:.2f} ms in the sandbox (WeChat's work)")  # fmt: skip
    print(f"{'peak worker memory':<30}{figures['peak_pss_mb']:9.0f} MB PSS of worker + work-horse; "
          f"largest process {figures['peak_rss_mb']:.0f} MB RSS")  # fmt: skip
    return {**figures, "raw_rate": raw, "ratio": ratio}


# --- the sandbox, in its own process ---------------------------------------------------


def _serve_sandbox(apps: list[dict], openids: list[str], ready) -> None:
    from wechat.sandbox.server import Sandbox

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    sandbox = Sandbox()
    state = sandbox.state
    for app in apps:
        state.add_app(**app)
    appid = next(app["appid"] for app in apps if app["kind"] == "wxa")
    state.add_template(appid, TEMPLATE, KEYS)
    state.add_template(appid, RAW_TEMPLATE, KEYS, long_term=True)
    for openid in openids:
        state.add_user(appid, openid)
        state.answer_popup(appid, openid, {TEMPLATE: "accept", RAW_TEMPLATE: "accept"})
    with sandbox.start():
        ready.put(sandbox.url)
        signal.sigwait({signal.SIGTERM})


def _start_sandbox(settings, openids: list[str]):
    apps = [
        {"kind": app.kind, "appid": app.appid, "secret": app.secret, "token": app.token,
         "aes_key": app.aes_key}
        for app in (settings.mp, settings.wxa)
    ]  # fmt: skip
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    process = context.Process(target=_serve_sandbox, args=(apps, openids, ready), daemon=True)
    process.start()
    return process, ready.get(timeout=300)


# --- the sandbox alone: plain HTTP clients, no outbox ------------------------------------


def _raw_client(base: str, app, openids: list[str], seconds: float, out) -> None:
    http = requests.Session()
    token = http.post(
        f"{base}/cgi-bin/stable_token",
        json={"grant_type": "client_credential", "appid": app.appid, "secret": app.secret},
    ).json()["access_token"]
    data = {"thing1": {"value": "压测"}, "time2": {"value": "2021-10-31 23:59"}}
    sent, deadline, index = 0, time.perf_counter() + seconds, 0
    while time.perf_counter() < deadline:
        body = {"touser": openids[index % len(openids)], "template_id": RAW_TEMPLATE, "data": data}
        answer = http.post(f"{base}/cgi-bin/message/subscribe/send",
                           params={"access_token": token}, json=body).json()  # fmt: skip
        sent += answer.get("errcode") == 0
        index += 1
    out.put(sent)


def _raw_rate(base: str, app, clients: int) -> float:
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    users = [f"o-bench-{n:06d}" for n in range(1000)]
    processes = [
        context.Process(target=_raw_client, args=(base, app, users, RAW_SECONDS, out))
        for _ in range(clients)
    ]
    for process in processes:
        process.start()
    total = sum(out.get() for _ in processes)
    for process in processes:
        process.join()
    return total / RAW_SECONDS


# --- the notice through the outbox -------------------------------------------------------


def _send_notice(env: dict, openids: list[str], base: str) -> dict:
    import runtime
    from campaign.notices import operations as notices
    from models import Delivery, Notice, db
    from tasks import notices as jobs
    from tests.notice_helpers import WorkerProcesses

    runtime.bootstrap(load_settings(env))
    with db.connection_context():
        notice = _seed(openids)
    workers = WorkerProcesses(env)
    workers.start(WORKERS)
    time.sleep(2)  # let the workers connect
    memory = _MemoryWatch(workers)
    started = time.perf_counter()
    with db.connection_context():
        notices.schedule(notice, notice.send_at, "bench")
        jobs.start(notice.id)
    fanned = _wait(lambda: Notice.get_by_id(notice.id).state != "preparing", memory)
    done = _wait(lambda: Notice.get_by_id(notice.id).state == "done", memory)
    worker_cpu = sum(_cpu_seconds(pid) for p in workers.alive() for pid in _tree(p.pid))
    workers.stop()
    logged = requests.get(f"{base}/__admin/sends", timeout=120).json()["sends"]
    sends = [send for send in logged if send["template_id"] == TEMPLATE]  # not the raw clients'
    moments = sorted(send["at"] for send in sends)
    per_user: dict[str, int] = {}
    for send in sends:
        per_user[send["openid"]] = per_user.get(send["openid"], 0) + 1
    with db.connection_context():
        still_open = Delivery.select().where(Delivery.state.in_(("pending", "sending"))).count()
    return {
        "fanout_s": fanned - started,
        "total_s": done - started,
        "sent": len(sends),
        "send_s": moments[-1] - moments[0],
        "send_rate": (len(moments) - 1) / (moments[-1] - moments[0]),
        "duplicates": sum(1 for count in per_user.values() if count > 1),
        "open": still_open,
        "worker_cpu_ms": worker_cpu * 1000 / max(len(sends), 1),
        "peak_pss_mb": memory.peak_pss / 1024,
        "peak_rss_mb": memory.peak_rss / 1024,
    }


def _seed(openids: list[str]):
    """Recipients (a unit each, a consent each) and the notice, as fast as SQLite takes them."""
    from campaign.definition import current_campaign
    from campaign.notices.operations import create_notice
    from models import (
        MessageTemplate,
        SubscriptionGrant,
        Unit,
        WechatUser,
        db,
        refresh_statistics,
        utcnow,
    )

    campaign = current_campaign()
    now = utcnow()
    with db.atomic():
        for start in range(0, len(openids), 5000):
            chunk = openids[start : start + 5000]
            WechatUser.insert_many(
                [{"app": "wxa", "openid": o, "created_at": now, "last_seen_at": now} for o in chunk]
            ).execute()
        users = list(WechatUser.select(WechatUser.id).order_by(WechatUser.id).tuples())
        for start in range(0, len(users), 5000):
            chunk = [user_id for (user_id,) in users[start : start + 5000]]
            Unit.insert_many(
                [{"campaign": campaign.id, "owner": u, "name": f"单位{u}",
                  "created_at": now, "updated_at": now} for u in chunk]
            ).execute()  # fmt: skip
            SubscriptionGrant.insert_many(
                [{"user": u, "template_id": TEMPLATE, "remaining": 1, "updated_at": now}
                 for u in chunk]
            ).execute()  # fmt: skip
        template = MessageTemplate.create(
            campaign=campaign, purpose="general", channel="wxa_subscribe",
            template_id=TEMPLATE, title="压测通知", fields=FIELDS,
        )  # fmt: skip
    for model in (WechatUser, Unit, SubscriptionGrant):
        refresh_statistics(model)  # a real campaign's tables are weeks old, not a second
    data = {"title": "压测通知", "template": template.id, "audience": {"group": "units"}}
    notice = create_notice(campaign, data, "bench")
    notice.send_at = utcnow()
    return notice


def _wait(condition, memory, interval: float = 0.2) -> float:
    """When `condition` first holds (checked every `interval`, ± that much), sampling the
    workers' memory meanwhile. Polling every 50 ms took a fifth of a core from the run."""
    from models import db

    while True:
        with db.connection_context():
            if condition():
                return time.perf_counter()
        memory.sample()
        time.sleep(interval)


class _MemoryWatch:
    """Peak memory of one worker: its proportional set size (PSS: pages shared between the
    worker and its forked work-horse are counted once) with its children, and the largest
    resident size (RSS) of any single process of it. One pass over /proc a second: walking
    it for every worker five times a second, and reading each process's smaps_rollup twice,
    took a third of a core from the machine the notice runs on."""

    EVERY = 1.0  # seconds; a work-horse lives as long as its batch, several seconds

    def __init__(self, workers):
        self.workers = workers
        self.peak_pss = 0  # KiB
        self.peak_rss = 0
        self.last = 0.0

    def sample(self) -> None:
        from tests.notice_helpers import parent_pids

        if time.monotonic() - self.last < self.EVERY:
            return
        self.last = time.monotonic()
        parents = parent_pids()
        for process in self.workers.alive():
            tree = [process.pid, *(pid for pid, parent in parents.items() if parent == process.pid)]
            sizes = [_memory_kib(pid) for pid in tree]
            self.peak_pss = max(self.peak_pss, sum(pss for pss, _ in sizes))
            self.peak_rss = max(self.peak_rss, *(rss for _, rss in sizes))


def _tree(pid: int) -> list[int]:
    from tests.notice_helpers import children

    return [pid, *children(pid)]


def _cpu_seconds(pid: int) -> float:
    """CPU time of a process and of its children it has waited for (a worker's past
    work-horses), from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")


def _memory_kib(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of a process in KiB, (0, 0) if it is gone."""
    sizes = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("Pss", "Rss"):
                sizes[key] = int(rest.split()[0])
    except OSError:
        pass
    return sizes.get("Pss", 0), sizes.get("Rss", 0)


if __name__ == "__main__":
    main()
