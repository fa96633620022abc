"""What a winner's registration form (登记表) and cover sheet say, gathered from the database.

`drawing.forms` turns a `FormData` into PDF and DOCX; it never queries anything itself, so
the same data can be drawn in a request, a job or a test.
"""

from dataclasses import dataclass

from campaign.definition import options
from campaign.mailin.rules import ITEMS, Winner
from models import Campaign


@dataclass(frozen=True)
class FormData:
    campaign_title: str
    organizer: str
    unit_name: str
    region: str
    contact_name: str
    contact_phone: str
    entry_title: str
    track: str
    domain: str
    award: str
    abstract: str
    short_code: str
    token: str
    address: str
    postcode: str
    recipient: str
    recipient_phones: str
    checklist: tuple[str, ...]

    @property
    def printed_code(self) -> str:
        """The short code as printed: two groups of four, easier to read out and type."""
        return f"{self.short_code[:4]}-{self.short_code[4:]}"

    def rows(self) -> list[tuple[str, str]]:
        """The registration form's fields, label and value, in print order."""
        return [
            ("编号", self.printed_code),
            ("单位名称", self.unit_name),
            ("所在地区", self.region),
            ("联系人", self.contact_name),
            ("联系电话", self.contact_phone),
            ("案例名称", self.entry_title),
            ("申报类别", self.track),
            ("所属领域", self.domain),
            ("入选类别", self.award),
            ("案例摘要", self.abstract),
        ]


def form_data(campaign: Campaign, found: Winner) -> FormData:
    """The form of one winner, from the unit, the entry, the award and the campaign's contact."""
    labels = {o.kind + ":" + o.code: o.label for kind in ("domain", "track")
              for o in options(campaign, kind)}  # fmt: skip
    contact = campaign.contact or {}
    entry, unit = found.entry, found.unit
    return FormData(
        campaign_title=campaign.title,
        organizer=contact.get("organizer") or campaign.organizer,
        unit_name=unit.name,
        region=unit.region,
        contact_name=unit.contact_name,
        contact_phone=unit.contact_phone,
        entry_title=entry.title,
        track=labels.get("track:" + entry.track, entry.track),
        domain=labels.get("domain:" + entry.domain, entry.domain),
        award=found.award_label,
        abstract=entry.abstract,
        short_code=found.mailin.short_code,
        token=found.mailin.token,
        address=contact.get("address", ""),
        postcode=str(contact.get("postcode", "")),
        recipient=contact.get("person", ""),
        recipient_phones="，".join(contact.get("phones") or []),
        checklist=tuple(item.label for item in ITEMS),
    )
