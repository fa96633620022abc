"""Winners to mail in and to compile: units with awarded entries and their decisions."""

import io
import itertools

from PIL import Image

from campaign.sessions import issue_token
from models import Attachment, Decision, Entry, Unit, WechatUser
from storage import get_storage

_numbers = itertools.count(1)


def make_winner(campaign, award="case", domain="urban", title=None, unit=None, **fields):
    """An awarded entry (with its decision) of `unit`, or of a new unit."""
    number = next(_numbers)
    if unit is None:
        owner = WechatUser.create(app="wxa", openid=f"o-winner-{number}")
        unit = Unit.create(
            campaign=campaign, owner=owner, name=f"中共某某{number}号社区委员会",
            region="福州市", contact_name="林晓", contact_phone="13800000000",
        )  # fmt: skip
    values = {
        "title": title or f"近邻党建第{number}例",
        "abstract": "以党建引领基层治理，" * 25,
        "background": "背景段落。" * 40,
        "approach": "做法段落。" * 60,
        "results": "成效段落。" * 40,
        "significance": "意义段落。" * 30,
        **fields,
    }
    entry = Entry.create(
        campaign=campaign, unit=unit, owner=unit.owner, route="online", track=award,
        domain=domain, status="awarded", content_check="pass", **values,
    )  # fmt: skip
    Decision.create(entry=entry, award=award, state="applied", decided_by="test")
    return entry


def bearer(user) -> dict:
    token, _ = issue_token(user)
    return {"Authorization": f"Bearer {token}"}


def add_photo(entry, color="red", size=(1600, 1000)) -> Attachment:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    stored = get_storage().save(io.BytesIO(out.getvalue()), "jpg")
    return Attachment.create(
        entry=entry, kind="photo", storage_key=stored.key, mime="image/jpeg",
        size=stored.size, check_status="pass",
    )  # fmt: skip
