"""Fixtures of the mail-in and casebook tests."""

import pytest

from tests.mailin.winners import make_winner


@pytest.fixture
def winner(open_window):
    return make_winner(open_window, award="brand", title="“红色驿站”近邻服务品牌")
