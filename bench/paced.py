"""An open-loop load generator at a fixed rate: request n leaves at start + n / rate,
whether or not earlier ones were answered, and its latency counts from that planned time
(so a stalled server cannot hide its queue: no coordinated omission).

wrk 4 (Debian's) has no fixed-rate mode and wrk2 is not packaged, hence this: one asyncio
loop in its own process, a new connection per request as gunicorn's sync workers want.
"""

import asyncio
import time

from bench.loadgen import Result


async def _one(port: int, raw: bytes, planned: float, out: list, errors: list) -> None:
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port), timeout=10
        )
        writer.write(raw)
        data = await asyncio.wait_for(reader.read(), timeout=10)
        writer.close()
        ok = data[9:10] in (b"2", b"3")
    except (OSError, TimeoutError):
        ok = False
    (out if ok else errors).append(time.perf_counter() - planned)


async def _run(port: int, requests: list[bytes], rate: float) -> Result:
    out, errors, tasks = [], [], []
    start = time.perf_counter() + 0.05
    for n, raw in enumerate(requests):
        planned = start + n / rate
        delay = planned - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_one(port, raw, planned, out, errors)))
    await asyncio.gather(*tasks)
    return Result(len(out), len(errors), time.perf_counter() - start, out)


def run(port: int, requests: list[bytes], rate: float) -> Result:
    """Send every request at `rate` per second; the result's latencies are from plan."""
    return asyncio.run(_run(port, requests, rate))
