"""Fixtures of the notice tests, loaded with `pytest_plugins = ("tests.notice_fixtures",)`."""

import pytest

from campaign import outbox
from tasks.notices import outbox_settings
from tests.notice_helpers import Organizer


@pytest.fixture
def organizer(client, open_window):
    return Organizer(client, open_window)


@pytest.fixture
def fast_outbox(monkeypatch):
    """No rate limit and immediate retries, so in-process tests run in moments."""
    monkeypatch.setenv("NOTICE_SEND_RATE", "0")
    monkeypatch.setattr(outbox, "RETRY_BASE", 0.0)
    outbox_settings.cache_clear()
    yield outbox_settings()
    outbox_settings.cache_clear()
