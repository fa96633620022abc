"""Console accounts belong to a campaign, or are explicitly multi-campaign (issue 11, item 7):
the 2021 organizer does not run the 2026 campaign."""

import datetime

import pytest

from campaign.accounts import create_account
from campaign.sessions import issue_token
from models import Campaign, utcnow


@pytest.fixture
def next_year(campaign):
    """A 2026 campaign, made current (the 2021 one stays in the database)."""
    now = utcnow()
    Campaign.update(is_current=False).execute()
    return Campaign.create(
        slug="c2026", title="2026", theme="t", organizer="o", is_current=True,
        opens_at=now - datetime.timedelta(days=1), closes_at=now + datetime.timedelta(days=30),
        limits={}, quotas={}, contact={}, regions=[], org_levels=[],
    )  # fmt: skip


def entries_as(client, account) -> int:
    token, _ = issue_token(account)
    return client.get(
        "/api/v1/org/entries", headers={"Authorization": f"Bearer {token}"}
    ).status_code


def test_an_organizer_of_another_campaign_is_refused(client, campaign, next_year):
    old = create_account("org-2021", "organizer-password", "organizer", "2021", campaign)
    token, _ = issue_token(old)
    response = client.get("/api/v1/org/entries", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "wrong_campaign"
    current = create_account("org-2026", "organizer-password", "organizer", "2026", next_year)
    assert entries_as(client, current) == 200


def test_multi_campaign_accounts_are_explicit(client, campaign, next_year):
    unbound = create_account("org-none", "organizer-password", "organizer", "无", None)
    assert entries_as(client, unbound) == 403  # no campaign is not "every campaign"
    every = create_account("org-all", "organizer-password", "organizer", "全部", None, True)
    assert entries_as(client, every) == 200
    admin = create_account("admin-1", "organizer-password", "admin", "管理员")
    assert entries_as(client, admin) == 200
