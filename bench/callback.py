"""Callback endpoint vs bare Flask: encrypted SCAN events, verified, decrypted, de-duplicated,
touch recorded and a reply encrypted, against a "hello" route on the same gunicorn config.

Goal (DESIGN §8): callback requests/s ≥ 50% of hello's.
"""

import tempfile
import time
from pathlib import Path

from bench import loadgen
from bench.stack import environment, gunicorn
from config import load_settings
from tests import pushes

SECONDS = 8.0
CLIENTS = 4


def scan_requests(app, count: int, client: int) -> list[bytes]:
    """Distinct encrypted SCAN pushes (each a new user, so none is a duplicate)."""
    now = int(time.time())
    out = []
    for n in range(count):
        xml = pushes.event_xml(f"o-bench-{client}-{n}", "SCAN", EventKey="c=abcd2345ef", Ticket="t")
        query, body = pushes.encrypted(app, xml, timestamp=now, nonce=f"n{client}x{n}")
        path = "/wechat/mp?" + "&".join(f"{k}={v}" for k, v in query.items())
        out.append(loadgen.post(path, body))
    return out


def main() -> dict:
    settings = load_settings({})
    per_client = 20_000
    with tempfile.TemporaryDirectory() as workdir, environment(Path(workdir)) as env:
        callbacks = [scan_requests(settings.mp, per_client, c) for c in range(CLIENTS)]
        hellos = [[loadgen.get("/hello")] * per_client for _ in range(CLIENTS)]
        with gunicorn("bench.hello_app:app", env) as port:
            loadgen.run(port, [r[:200] for r in hellos], 2)  # warm-up
            hello = loadgen.run(port, hellos, SECONDS)
        with gunicorn("app:app", env) as port:
            loadgen.run(port, [r[-200:] for r in callbacks], 2)  # warm-up, distinct events
            callback = loadgen.run(port, [r[:-200] for r in callbacks], SECONDS)
    ratio = callback.rate / hello.rate
    print("callback benchmark (gunicorn, 2 sync workers, loopback, new connection per request)")
    print(hello.line("bare Flask /hello"))
    print(callback.line("/wechat/mp encrypted SCAN"))
    print(f"ratio callback/hello: {ratio:.0%} (goal ≥ 50%)")
    return {"hello_rps": hello.rate, "callback_rps": callback.rate, "ratio": ratio}


if __name__ == "__main__":
    main()
