"""Callback endpoint vs its peer: encrypted SCAN events against `/wechat/mp` (verified,
decrypted, de-duplicated, touch buffered, reply encrypted) and against a minimal Flask +
wechatpy safe-mode handler (`bench.wechat_peer`: decrypt, parse, text reply, encrypt; no
de-dup, no storage), both under deploy/gunicorn.conf.py with the worker count it chooses in
production (2 × cores + 1: a sync worker waits through the push's Redis round trip, and the
spare workers use the core meanwhile), driven by the same load generator with distinct
pre-generated pushes. A bare Flask "hello" (2 workers) is shown too.

Goals (DESIGN §8): service req/s ≥ 90% of the peer's; p99 < 25 ms at 1,000 req/s paced.
Throughput: wrk (`apt-get install wrk`) cycling through the pushes, else `bench.loadgen`
(Python; it takes CPU from the server, so the figures are lower and noisier). Latency:
wrk with 20 connections each pausing 18 ms (about 1,000 req/s, closed loop; the achieved rate
is printed), else `bench.paced` (open loop, Python).

Side by side: both servers run at once, and with wrk each side's SECONDS are served in
SLICES alternating slices of whole seconds (peer, service, service, peer, …), so that the
machine's own drift (on a shared 2-core box, ±10% between neighbouring 8-second runs) counts
against both alike.

`python -m bench.callback` (or `make bench`); BENCH_CALLBACK_ROUNDS=3 repeats the side-by-side
to show the range, BENCH_CALLBACK_SECONDS sets each side's length, BENCH_CALLBACK_SLICES the
number of slices it is served in, BENCH_CALLBACK_WORKERS another worker count for both sides
(2, one per core here, is the strictest: there the round trip leaves a core idle).
"""

import os
import tempfile
import time
from pathlib import Path

from bench import loadgen, paced, wrk
from bench.stack import deployed_workers, environment, gunicorn
from config import load_settings
from tests import pushes

SECONDS = float(os.environ.get("BENCH_CALLBACK_SECONDS", "8"))
ROUNDS = int(os.environ.get("BENCH_CALLBACK_ROUNDS", "1"))
SLICES = int(os.environ.get("BENCH_CALLBACK_SLICES", "4"))
WORKERS = int(os.environ.get("BENCH_CALLBACK_WORKERS") or 0) or None  # None: as deployed
CLIENTS = 4
PACED_RATE = 1000
PACED_SECONDS = 8
PACED_CONNECTIONS = 20
PUSH_RATE_CEILING = 4000  # pushes generated per second of a run: more than either side serves


class Pushes:
    """Distinct encrypted SCAN pushes (each from a new user, so none is a duplicate)."""

    def __init__(self, app):
        self.app, self.serial = app, 0

    def take(self, count: int) -> list[tuple[str, bytes]]:
        """`count` new pushes stamped now (WeChat's timestamps are accepted for 300 s)."""
        now, out = int(time.time()), []
        for _ in range(count):
            n = self.serial = self.serial + 1
            xml = pushes.event_xml(f"o-bench-{n}", "SCAN", EventKey="c=abcd2345ef", Ticket="t")
            query, body = pushes.encrypted(self.app, xml, timestamp=now, nonce=f"n{n}")
            out.append(("/wechat/mp?" + "&".join(f"{k}={v}" for k, v in query.items()), body))
        return out


def _throughput(port: int, requests: list, seconds: float = SECONDS, method: str = "POST"):
    if wrk.available():
        lines = [wrk.request_line(method, path, body) for path, body in requests]
        return wrk.run(port, lines, seconds, connections=CLIENTS)
    raws = [loadgen.post(p, b) if method == "POST" else loadgen.get(p) for p, b in requests]
    return loadgen.run(port, [raws[c::CLIENTS] for c in range(CLIENTS)], seconds)


def _round(env: dict, source: Pushes, hello_port: int) -> dict:
    count = int(SECONDS * PUSH_RATE_CEILING)
    hello = _throughput(hello_port, [("/hello", b"")] * count, method="GET")
    with (
        gunicorn("bench.wechat_peer:app", env, WORKERS) as peer_port,
        gunicorn("app:app", env, WORKERS) as port,
    ):
        for warming in (peer_port, port):
            _throughput_warm(warming, source)
        (peer, service), wrapped = _side_by_side(peer_port, port, source)
        peer_paced = _paced(peer_port, source)
        service_paced = _paced(port, source)
    return {
        "hello": hello,
        "peer": peer,
        "service": service,
        "peer_paced": peer_paced,
        "service_paced": service_paced,
        "wrapped": wrapped,
    }


def _side_by_side(peer_port: int, port: int, source: Pushes):
    """(peer, service) throughput and whether a run outlasted its distinct pushes: with wrk in
    alternating slices (ABBA), else one run each."""
    if not wrk.available():
        count = int(SECONDS * PUSH_RATE_CEILING)
        runs = [_throughput(p, source.take(count), SECONDS) for p in (peer_port, port)]
        return tuple(runs), max(r.requests for r in runs) > count
    seconds = max(1, round(SECONDS / SLICES))  # wrk takes whole seconds
    count = int(seconds * PUSH_RATE_CEILING)
    slices = {peer_port: [], port: []}
    for n in range(SLICES):
        for side in (peer_port, port) if n % 2 == 0 else (port, peer_port):
            slices[side].append(_throughput(side, source.take(count), seconds))
    wrapped = any(r.requests > count for runs in slices.values() for r in runs)
    return (wrk.combined(slices[peer_port]), wrk.combined(slices[port])), wrapped


def _paced(port: int, source: Pushes):
    """About PACED_RATE requests a second: wrk with PACED_CONNECTIONS connections each pausing
    between requests (C, little CPU), else `bench.paced` (Python, open loop)."""
    pushes = source.take(int(PACED_RATE * PACED_SECONDS * 1.2))
    if wrk.available():
        lines = [wrk.request_line("POST", path, body) for path, body in pushes]
        pause = round(PACED_CONNECTIONS * 1000 / PACED_RATE) - 2  # a response takes ~2 ms
        return wrk.run(port, lines, PACED_SECONDS, PACED_CONNECTIONS, pause_ms=pause)
    return paced.run(port, _raw(pushes[: PACED_RATE * PACED_SECONDS]), PACED_RATE)


def _throughput_warm(port: int, source: Pushes) -> None:
    loadgen.run(port, [_raw(source.take(50)) for _ in range(2)], 2)


def _raw(requests: list[tuple[str, bytes]]) -> list[bytes]:
    return [loadgen.post(path, body) for path, body in requests]


def main() -> dict:
    settings = load_settings({})
    source = Pushes(settings.mp)
    rounds = []
    with tempfile.TemporaryDirectory() as workdir, environment(Path(workdir)) as env:
        with gunicorn("bench.hello_app:app", env) as hello_port:
            loadgen.run(hello_port, [[loadgen.get("/hello")] * 200] * 2, 2)  # warm-up
            for _ in range(ROUNDS):
                rounds.append(_round(env, source, hello_port))
    generator = "wrk, 1 thread" if wrk.available() else "bench.loadgen (wrk not installed)"
    workers = WORKERS or f"{deployed_workers()} (as deployed)"
    print(
        f"callback benchmark (gunicorn, {workers} sync workers, loopback; throughput: {generator}, "
        f"{CLIENTS} connections, distinct pushes, {SLICES} alternating slices a side; "
        f"latency: about {PACED_RATE} req/s paced, "
        f"{'wrk, closed loop' if wrk.available() else 'bench.paced, open loop'})"
    )
    for n, r in enumerate(rounds, 1):
        ratio = r["service"].rate / r["peer"].rate
        print(f"round {n}:")
        print("  " + r["hello"].line("bare Flask /hello"))
        print("  " + r["peer"].line("peer (Flask + wechatpy)"))
        print("  " + r["service"].line("/wechat/mp encrypted SCAN"))
        print(f"  ratio service/peer: {ratio:.0%} (goal ≥ 90%: {ratio / 0.9:.2f}× the goal)")
        for name in ("peer_paced", "service_paced"):
            result = r[name]
            p99 = result.percentile(0.99)
            label = f"{'peer' if name == 'peer_paced' else 'service'} at {PACED_RATE}/s paced"
            print(
                f"  {label:<28} {result.rate:6.0f} req/s   p50 {result.percentile(0.5):6.2f} ms"
                f"   p99 {p99:7.2f} ms   errors {result.errors}"
                f"   (goal p99 < 25 ms: {25 / max(p99, 0.001):.2f}×)"
            )
        if r["wrapped"]:
            print("  note: the run outlasted the distinct pushes; some were sent twice")
    ratios = [r["service"].rate / r["peer"].rate for r in rounds]
    p99s = [r["service_paced"].percentile(0.99) for r in rounds]
    if ROUNDS > 1:
        print(f"range over {ROUNDS} rounds: service/peer {min(ratios):.0%}–{max(ratios):.0%}, "
              f"service p99 at {PACED_RATE}/s {min(p99s):.1f}–{max(p99s):.1f} ms")  # fmt: skip
    return {"ratios": ratios, "service_p99_ms": p99s}


if __name__ == "__main__":
    main()
