"""A small closed-loop HTTP load generator on loopback: no dependency, same for every target.

Each client process opens a fresh connection per request (gunicorn's sync workers close
after each response, as they do behind nginx) and records every latency. The generator is
identical for both sides of a comparison, so its own cost cancels out of the ratio.
"""

import multiprocessing
import socket
import statistics
import time
from dataclasses import dataclass


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000 if ordered else 0.0

    def line(self, name: str) -> str:
        return (
            f"{name:<28} {self.rate:9.0f} req/s   p50 {self.percentile(0.5):6.2f} ms   "
            f"p99 {self.percentile(0.99):7.2f} ms   errors {self.errors}"
        )


def exchange(port: int, raw: bytes, timeout: float = 10) -> bytes:
    """Send one raw request on a new loopback connection; the whole answer, read until the
    server closes (the requests say `Connection: close`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _one(port: int, raw: bytes) -> tuple[bool, float]:
    started = time.perf_counter()
    status = exchange(port, raw)[9:12]  # "HTTP/1.1 200 …": a 2xx or a redirect is an answer
    return status[:1] in (b"2", b"3"), time.perf_counter() - started


def _client(port: int, requests: list[bytes], seconds: float, out) -> None:
    ok = errors = 0
    latencies = []
    deadline = time.perf_counter() + seconds
    index = 0
    while time.perf_counter() < deadline and index < len(requests):
        try:
            good, elapsed = _one(port, requests[index])
        except OSError:
            good, elapsed = False, 0.0
        index += 1
        ok += good
        errors += not good
        latencies.append(elapsed)
    out.put((ok, errors, latencies))


def run(port: int, requests: list[list[bytes]], seconds: float) -> Result:
    """Run one client process per request list for `seconds`; combine what they saw."""
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    clients = [context.Process(target=_client, args=(port, r, seconds, out)) for r in requests]
    started = time.perf_counter()
    for client in clients:
        client.start()
    results = [out.get() for _ in clients]
    elapsed = time.perf_counter() - started
    for client in clients:
        client.join()
    latencies = [lat for _, _, lats in results for lat in lats]
    return Result(
        requests=sum(ok for ok, _, _ in results),
        errors=sum(err for _, err, _ in results),
        seconds=elapsed,
        latencies=latencies,
    )


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode()


def post(path: str, body: bytes, content_type: str = "text/xml") -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0
