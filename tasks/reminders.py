"""The periodic job that creates automatic reminders when they are due and starts them."""

from campaign.notices.reminders import create_due
from models import Campaign, db, utcnow
from tasks.notices import start


@db.connection_context()
def create_due_reminders() -> list[int]:
    """Every campaign still running or awarding: create what is due, start it at once."""
    now = utcnow()
    created = []
    for campaign in Campaign.select().where(Campaign.opens_at <= now):
        created += create_due(campaign, now)
    for notice_id in created:
        start(notice_id)
    return created
