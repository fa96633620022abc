"""Structured logs: one JSON object per line, each carrying the request or job id.

The id lives in a context variable so that code far from Flask (campaign rules, jobs)
can stamp it on audit rows and log lines without knowing where it came from.
"""

import json
import logging
import re
import sys
import time
from contextvars import ContextVar

# A mainland mobile number anywhere in a log line keeps its first 3 and last 4 digits, as in
# responses (`138****5678`): logs leave the host and are kept for months (docs/privacy.md).
MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_phones_in(text: str) -> str:
    return MOBILE.sub(r"\1****\2", text)


_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(value: str | None):
    """Set the id for the current context; returns a token for `unbind_request_id`."""
    return _request_id.set(value)


def unbind_request_id(token) -> None:
    _request_id.reset(token)


class JsonFormatter(logging.Formatter):
    """Render a record as one line of JSON, with the request id when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": current_request_id(),
        }
        entry.update(getattr(record, "fields", {}) or {})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return mask_phones_in(json.dumps(entry, ensure_ascii=False, default=str))


def configure_logging(level: str = "INFO") -> None:
    """Send every logger's records to stderr as JSON lines (idempotent)."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.handlers[:] = [handler]
    root.setLevel(level)
