"""wrk (`apt-get install wrk`) as the load generator: C, one epoll thread, little CPU taken
from the server on a 2-core machine, unlike the Python `bench.loadgen`.

`run` writes the pre-generated requests to a file that `wrk_cycle.lua` cycles through, so
every request can be distinct. It returns a `loadgen.Result`-like summary; `available()`
says whether wrk is installed (benchmarks fall back to `bench.loadgen`, and say so).
"""

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("wrk_cycle.lua")


@dataclass
class WrkResult:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        """The same reading as `loadgen.Result.percentile` (wrk reports p50 and p99)."""
        return {0.5: self.p50_ms, 0.99: self.p99_ms}[p]

    def line(self, name: str) -> str:
        return (
            f"{name:<28} {self.rate:9.0f} req/s   p50 {self.p50_ms:6.2f} ms   "
            f"p99 {self.p99_ms:7.2f} ms   errors {self.errors}"
        )


def combined(slices: list[WrkResult]) -> WrkResult:
    """Slices of one measurement as one result: requests, errors and seconds summed, the
    slowest slice's percentiles."""
    return WrkResult(
        requests=sum(s.requests for s in slices),
        errors=sum(s.errors for s in slices),
        seconds=sum(s.seconds for s in slices),
        p50_ms=max(s.p50_ms for s in slices),
        p99_ms=max(s.p99_ms for s in slices),
    )


def available() -> bool:
    return shutil.which("wrk") is not None


def request_line(method: str, path: str, body: bytes = b"", headers: dict | None = None) -> str:
    """One line of the requests file (bodies here are single-line XML)."""
    text = body.decode()
    extra = "|".join(f"{name}: {value}" for name, value in (headers or {}).items())
    if any(c in part for part in (text, path, extra) for c in "\t\n"):
        raise ValueError("requests for wrk_cycle.lua must be single-line, without tabs")
    return f"{method}\t{path}\t{text}\t{extra}"


def run(
    port: int,
    lines: list[str],
    seconds: float,
    connections: int = 4,
    threads: int = 1,
    pause_ms: int = 0,
):
    """wrk against 127.0.0.1:`port` for `seconds`, cycling through `lines`; `pause_ms` paces
    each connection (see wrk_cycle.lua)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as file:
        file.write("\n".join(lines) + "\n")
        file.flush()
        command = [
            "wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s",
            "--timeout", "10s", "-s", str(SCRIPT), f"http://127.0.0.1:{port}",
            "--", file.name, str(threads), str(pause_ms),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRK_RESULT "))
    raw = json.loads(line.removeprefix("WRK_RESULT "))
    return WrkResult(
        requests=raw["requests"] - raw["status_errors"],
        errors=raw["errors"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
    )
