"""Playwright driving Debian's Chromium for the console's browser tests (DESIGN §11).

Playwright's own browser download is unreachable here, so the system Chromium is launched
through `executable_path`. Without it the browser tests skip with one line saying how to
enable them; with REQUIRE_BROWSER=1 (CI) the skip becomes a failure.
"""

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOW_TO_ENABLE = (
    "browser tests skipped: run `apt-get install -y chromium fonts-noto-cjk` and "
    "`.venv/bin/pip install -r requirements-dev.txt` to enable them (REQUIRE_BROWSER=1 fails)"
)
VIEWPORT = {"width": 1366, "height": 768}


def missing_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return HOW_TO_ENABLE
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return HOW_TO_ENABLE
    return None


def require_browser() -> None:
    reason = missing_reason()
    if reason is None:
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(reason.replace("skipped", "required (REQUIRE_BROWSER=1) but missing"))
    pytest.skip(reason)


def chromium_major() -> str:
    """The system Chromium's major version, from `chromium --version`."""
    out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, check=False)
    words = [w for w in out.stdout.split() if w[:1].isdigit()]
    return words[0].split(".")[0] if words else ""


class Traffic:
    """Every request a page makes, and every CSP or script error it logs."""

    def __init__(self, page, base_url: str):
        self.base = urlparse(base_url).netloc
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on(
            "console",
            lambda message: self.errors.append(message.text) if message.type == "error" else None,
        )

    def foreign(self) -> list[str]:
        """Requests to any host but the service (data: and blob: stay in the page)."""
        return [
            url
            for url in self.requests
            if urlparse(url).scheme not in ("data", "blob") and urlparse(url).netloc != self.base
        ]

    def csp_violations(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e]


UNLABELLED = """() => [...document.querySelectorAll(
    'input:not([type=hidden]), select, textarea')]
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
  .map(e => e.name || e.id || e.outerHTML)"""


def unlabelled(page) -> list[str]:
    """Inputs on the page that no label names (keyboard and screen-reader users need one)."""
    return page.evaluate(UNLABELLED)
