"""Fixtures of the notice tests, loaded with `pytest_plugins = ("tests.notice_fixtures",)`."""

import dataclasses

import pytest

from campaign.notices import outbox
from config import current_settings
from tests.factories import Organizer


@pytest.fixture
def organizer(client, open_window):
    return Organizer(client, open_window)


@pytest.fixture
def fast_outbox(monkeypatch, override_settings):
    """No rate limit and immediate retries, so in-process tests run in moments."""
    monkeypatch.setattr(outbox, "RETRY_BASE", 0.0)
    notices = dataclasses.replace(current_settings().notices, send_rate=0.0)
    return override_settings(notices=notices).notices
