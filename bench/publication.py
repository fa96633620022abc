"""The public list page (/p/) and its JSON against bare Flask "hello" on the same gunicorn.

Goal (DESIGN §8): the public page at ≥ 90% of hello's requests/s. The list is a realistic
final list (300 lines, 253 cases and 47 brands in 7 domains, some names withheld); the page and
the JSON come from the publication cache, so after the first request no request reads the
database. Half the page requests carry the ETag they were given (a browser revisiting), half
do not, and every answer is checked.
"""

import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path

from bench import loadgen
from bench.stack import ROOT, environment, gunicorn

SECONDS = 9.0  # per load, split over the rounds
ROUNDS = 3
CLIENTS = 4
LINES = 300
BRANDS = 47


def _request(path: str, etag: str | None = None, gzip: bool = True) -> bytes:
    """A request as WeChat's browser sends it (it accepts gzip), optionally revalidating."""
    header = f"If-None-Match: {etag}\r\n" if etag else ""
    header += "Accept-Encoding: gzip, deflate\r\n" if gzip else ""
    return (
        f"GET {path} HTTP/1.1\r\nHost: bench\r\nUser-Agent: MicroMessenger/8.0.47\r\n{header}"
        "Connection: close\r\n\r\n"
    ).encode()


def _seed(env: dict) -> None:
    import subprocess

    command = [sys.executable, "-m", "bench.publication", "seed", str(LINES)]
    subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True, text=True)


def page_versus_hello() -> dict:
    """Both servers run side by side; the rounds alternate (hello, page, no-gzip page, JSON) so
    that the other engineers' load on a shared machine falls on both sides alike. Medians."""
    import requests

    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        env = stack.enter_context(environment(workdir))
        _seed(env)
        hello_port = stack.enter_context(gunicorn("bench.hello_app:app", env))
        port = stack.enter_context(gunicorn("app:app", env))
        first = requests.get(f"http://127.0.0.1:{port}/p/", timeout=10)  # gzip by default
        assert first.status_code == 200, first.status_code
        assert first.headers["Content-Encoding"] == "gzip"
        size, sent = len(first.content), int(first.headers["Content-Length"])
        etag = first.headers["ETag"]
        loads = {
            "hello": (hello_port, [loadgen.get("/hello")] * 20_000),
            "page": (port, [_request("/p/", etag if n % 2 else None) for n in range(20_000)]),
            "identity": (port, [_request("/p/", gzip=False)] * 20_000),
            "json": (port, [_request("/api/v1/publications/current")] * 20_000),
        }
        for target, requests_ in loads.values():  # warm-up: every worker fills its memory
            loadgen.run(target, [requests_[:200]] * CLIENTS, 1)
        rounds = {name: [] for name in loads}
        for _ in range(ROUNDS):
            for name, (target, requests_) in loads.items():
                rounds[name].append(loadgen.run(target, [requests_] * CLIENTS, SECONDS / ROUNDS))
    median = {name: _median(results) for name, results in rounds.items()}
    hello, page, identity, data = (median[n] for n in ("hello", "page", "identity", "json"))
    print("public list page benchmark (gunicorn, 2 sync workers, loopback, new connection each)")
    print(
        f"the list: {LINES} lines, page {size / 1024:.0f} KB ({sent / 1024:.0f} KB gzipped); "
        f"half the page requests revalidate (304); median of {ROUNDS} alternating rounds"
    )
    print(hello.line("bare Flask /hello"))
    print(page.line("/p/ (page, cached)"))
    print(identity.line("/p/ without gzip, no 304"))
    print(data.line("/api/v1/publications/current"))
    ratio, api_ratio = page.rate / hello.rate, data.rate / hello.rate
    print(
        f"ratio page/hello: {ratio:.0%} (goal ≥ 90%)   without gzip: "
        f"{identity.rate / hello.rate:.0%}   json/hello: {api_ratio:.0%}"
    )
    errors = sum(result.errors for results in rounds.values() for result in results)
    return {
        "hello_rps": hello.rate,
        "page_rps": page.rate,
        "json_rps": data.rate,
        "identity_rps": identity.rate,
        "ratio": ratio,
        "json_ratio": api_ratio,
        "errors": errors,
    }


def _median(results: list) -> "loadgen.Result":
    """The round with the median rate (its latencies come with it)."""
    return sorted(results, key=lambda result: result.rate)[len(results) // 2]


def main() -> dict:
    return {"page": page_versus_hello()}


def _seed_command(count: int) -> int:
    """300 awarded entries with decisions, then the final list published (in the bench env)."""
    import runtime
    from campaign.definition import current_campaign, options
    from campaign.entries import status
    from campaign.publication import lists
    from models import Decision, Entry, Unit, WechatUser, db

    runtime.bootstrap()
    with db.connection_context(), db.atomic():
        campaign = current_campaign()
        domains = [o.code for o in options(campaign, "domain")]
        regions = campaign.regions
        for n in range(count):
            user = WechatUser.create(app="wxa", openid=f"o-bench-{n}")
            unit = Unit.create(
                campaign=campaign, owner=user, name=f"中共福建省某某县第{n}党支部委员会",
                region=regions[n % len(regions)], domain=domains[n % len(domains)],
                contact_name="联系人", contact_phone=f"1390000{n:04d}",
            )  # fmt: skip
            entry = Entry.create(
                campaign=campaign, unit=unit, owner=user, route="online",
                domain=domains[n % len(domains)], track="brand" if n < BRANDS else "case",
                title=f"“党建+”引领基层治理的第{n}个实践探索", name_consent=n % 5 != 0,
            )  # fmt: skip
            for target in ("submitted", "under_review", "shortlisted", "awarded"):
                status.move(entry, target, "bench")
            award = "brand" if n < BRANDS else "case"
            Decision.create(entry=entry, award=award, state="applied", decided_by="bench")
        publication = lists.publish(campaign, {"kind": "final", "ends_on": "2099-12-31"}, "bench")
    return publication.id


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "seed":
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        print(json.dumps(_seed_command(int(sys.argv[2]))))
    else:
        main()
