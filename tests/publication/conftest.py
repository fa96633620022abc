"""Entries on their way to a public list: units with contacts and phones (which must never be
published), moved through the real status machine, with award decisions."""

import pytest

from campaign.entries import status
from models import Decision, Entry, Unit, WechatUser

PATH = (status.SUBMITTED, status.UNDER_REVIEW, status.SHORTLISTED, status.AWARDED)


class Seeder:
    def __init__(self, campaign):
        self.campaign = campaign
        self.count = 0

    def entry(self, to=status.AWARDED, domain="rural", track="case", award=None, consent=True):
        """An entry moved along draft → … → `to`; awarded ones get a decision (`award`)."""
        self.count += 1
        n = self.count
        user = WechatUser.create(app="wxa", openid=f"o-pub-{n}")
        unit = Unit.create(
            campaign=self.campaign,
            owner=user,
            name=f"中共测试第{n}支部委员会",
            region="福州市",
            domain=domain,
            org_level="党支部",
            contact_name=f"联系人甲{n}",
            contact_phone=f"1390591{n:04d}",
        )
        entry = Entry.create(
            campaign=self.campaign,
            unit=unit,
            owner=user,
            track=track,
            domain=domain,
            title=f"党建引领案例{n}",
            route="online",
            name_consent=consent,
        )
        for target in PATH[: PATH.index(to) + 1]:
            status.move(entry, target, "test")
        if to == status.AWARDED:
            Decision.create(entry=entry, award=award or track, state="applied", decided_by="test")
        return Entry.get_by_id(entry.id)


@pytest.fixture(autouse=True)
def fresh_publication_cache():
    """Redis is emptied after every test; this process's copy of the cache must go too (in
    production a process notices an emptied Redis within `CHECK_EVERY` seconds)."""
    from tasks import publication_cache

    publication_cache.invalidate()
    yield


@pytest.fixture
def seed(open_window):
    return Seeder(open_window)


@pytest.fixture
def organizer(client, open_window):
    from tests.factories import Organizer

    return Organizer(client, open_window, username="organizer-pub")
