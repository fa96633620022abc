"""Faults and logs: misbehaviour injected per API path, and the records of what happened (every
API call and every push to an app's callback).

api.py claims a fault and logs the request around every WeChat endpoint; push.py adds and
numbers the push records; tests read both back to see what the code under test did.
"""

from collections import deque
from dataclasses import asdict, replace
from typing import TYPE_CHECKING

from .records import Fault
from .state_area import Area

if TYPE_CHECKING:
    from .push import PushRecord

FAULT_MODES = ("error", "delay", "drop_after")
REQUEST_LOG_LIMIT = 100_000


class LogState(Area):
    """Pending faults, the API request log (bounded) and the push records."""

    def clear(self) -> None:
        """Drop every fault and record (lock held)."""
        self._faults: list[Fault] = []
        self._requests: deque[dict] = deque(maxlen=REQUEST_LOG_LIMIT)
        self._pushes: list[PushRecord] = []

    def summary(self) -> dict:
        """The faults and the log sizes for `GET /__admin/state` (lock held)."""
        return {
            "faults": [asdict(fault) for fault in self._faults],
            "requests": len(self._requests),
            "pushes": len(self._pushes),
        }

    # -- faults -------------------------------------------------------------------------

    def add_fault(
        self,
        path: str,
        mode: str = "error",
        errcode: int = -1,
        times: int = 1,
        delay: float | None = None,
    ) -> Fault:
        """Misbehave on the next `times` calls of `path` (see docs/sandbox.md for the modes)."""
        fault = Fault(path, mode, errcode, times, delay)
        _check_fault(fault)
        with self.world.lock:
            self._faults.append(fault)
            return replace(fault)

    def claim_fault(self, path: str) -> Fault | None:
        """Take one use of the oldest fault for `path`, if any."""
        with self.world.lock:
            for fault in self._faults:
                if fault.path == path:
                    fault.times -= 1
                    if not fault.times:
                        self._faults.remove(fault)
                    return replace(fault)
            return None

    def clear_faults(self) -> int:
        """Drop every fault; returns how many there were."""
        with self.world.lock:
            count, self._faults = len(self._faults), []
            return count

    # -- logs ---------------------------------------------------------------------------

    def log_request(self, entry: dict) -> None:
        """Append to the API request log (the oldest entries go past REQUEST_LOG_LIMIT)."""
        with self.world.changing():
            self._requests.append(entry)

    def requests(self) -> list[dict]:
        """The API request log, oldest first."""
        with self.world.lock:
            return list(self._requests)

    def add_push(self, record: "PushRecord") -> None:
        """Append a push record and number it."""
        with self.world.changing():
            self._pushes.append(record)
            record.id = len(self._pushes)

    def pushes(self) -> list["PushRecord"]:
        """The push records, oldest first."""
        with self.world.lock:
            return list(self._pushes)


def _check_fault(fault: Fault) -> None:
    if fault.mode not in FAULT_MODES:
        raise ValueError(f"mode must be one of {FAULT_MODES}")
    if not isinstance(fault.errcode, int):
        raise ValueError("errcode must be a whole number")
    if not isinstance(fault.times, int) or fault.times < 1:
        raise ValueError("times must be a whole number, at least 1")
    if fault.mode == "delay" and fault.delay is None:
        raise ValueError("a delay fault needs a delay")
    if fault.delay is not None and not (isinstance(fault.delay, int | float) and fault.delay >= 0):
        raise ValueError("delay must be a number of seconds")
