"""A campaign as data: read from a YAML/JSON file, checked, and written to the database.

The 2021 plan ships as `campaign/plans/fujian-2021.yaml`; next year's campaign (or another
province's) is a new file of the same shape, loaded without any code change. Loading is
idempotent: the slug identifies the campaign, and loading the same file twice changes
nothing.
"""

import datetime
import json
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from campaign.channels.funnel_days import offset_minutes
from campaign.channels.funnel_days import rebuild as rebuild_funnel_days
from models import Campaign, CampaignOption, Prepared, db

PLANS_DIR = Path(__file__).resolve().parent / "plans"
DEFAULT_PLAN = PLANS_DIR / "fujian-2021.yaml"

OPTION_KINDS = ("domains", "themes", "routes", "criteria", "stages", "elements", "tracks")
REQUIRED = ("slug", "title", "theme", "organizer", "opens", "closes", "limits", "quotas")


class DefinitionError(ValueError):
    """The campaign file is incomplete or inconsistent."""


def read_definition(path) -> dict:
    """Parse a campaign file (YAML or JSON) into a checked dict."""
    text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    check_definition(data)
    return data


def check_definition(data) -> None:
    """Refuse a definition that would make a broken campaign; say everything wrong at once."""
    if not isinstance(data, dict):
        raise DefinitionError("a campaign file must be a mapping")
    problems = [f"missing {key!r}" for key in REQUIRED if key not in data]
    for kind in OPTION_KINDS:
        items = data.get(kind) or []
        if not items:
            problems.append(f"{kind!r} must list at least one item")
        codes = [item.get("code") for item in items if isinstance(item, dict)]
        if len(codes) != len(items) or not all(codes) or len(set(codes)) != len(codes):
            problems.append(f"{kind!r} items need unique, non-empty codes")
    stage_codes = {item.get("code") for item in data.get("stages") or [] if isinstance(item, dict)}
    if data.get("stage", "collection") not in stage_codes:
        problems.append("'stage' must be one of the listed stages")
    for key in ("abstract", "body"):
        bounds = (data.get("limits") or {}).get(key) or {}
        if not (0 < bounds.get("min", 0) <= bounds.get("max", -1)):
            problems.append(f"limits.{key} needs 0 < min <= max")
    if problems:
        raise DefinitionError("; ".join(problems))


def local_day_bounds(data: dict) -> tuple[datetime.datetime, datetime.datetime]:
    """Open at 00:00 of `opens`, close at 23:59:59 of `closes`, local time; as naive UTC."""
    zone = ZoneInfo(data.get("timezone", "Asia/Shanghai"))
    opens = _as_date(data["opens"])
    closes = _as_date(data["closes"])
    start = datetime.datetime.combine(opens, datetime.time(0, 0), zone)
    end = datetime.datetime.combine(closes, datetime.time(23, 59, 59), zone)
    return _naive_utc(start), _naive_utc(end)


def _as_date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


def _naive_utc(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(datetime.UTC).replace(tzinfo=None)


def apply_definition(data: dict, make_current: bool | None = None) -> tuple[Campaign, bool]:
    """Create or update the campaign named by `slug`; return it and whether it was new."""
    check_definition(data)
    opens_at, closes_at = local_day_bounds(data)
    fields = {
        "title": data["title"],
        "theme": data["theme"],
        "organizer": data["organizer"],
        "timezone": data.get("timezone", "Asia/Shanghai"),
        "day_offset": offset_minutes(data.get("timezone", "Asia/Shanghai"), opens_at),
        "opens_at": opens_at,
        "closes_at": closes_at,
        "grace_minutes": int(data.get("grace_minutes", 0)),
        "stage": data.get("stage", "collection"),
        "limits": data["limits"],
        "quotas": data["quotas"],
        "contact": data.get("contact", {}),
        "regions": data.get("regions", []),
        "org_levels": data.get("org_levels", []),
    }
    with db.atomic():
        campaign = Campaign.get_or_none(Campaign.slug == data["slug"])
        created = campaign is None
        # Settings organizers changed since (reminders, …) survive a reload; the file's win
        # only for keys it names.
        fields["settings"] = {**(campaign.settings if campaign else {}), **data.get("settings", {})}
        if created:
            campaign = Campaign.create(slug=data["slug"], **fields)
        elif any(getattr(campaign, key) != value for key, value in fields.items()):
            Campaign.update(**fields).where(Campaign.id == campaign.id).execute()
            if campaign.day_offset != fields["day_offset"]:  # its days are other hours now
                rebuild_funnel_days(campaign)
        _sync_options(campaign, data)
        if make_current or (make_current is None and not _has_current()):
            Campaign.update(is_current=(Campaign.id == campaign.id)).execute()
    return Campaign.get_by_id(campaign.id), created


def _has_current() -> bool:
    return Campaign.select().where(Campaign.is_current).exists()


def _sync_options(campaign: Campaign, data: dict) -> None:
    """Make the campaign's option rows equal the file's lists, touching only what differs."""
    existing = {(o.kind, o.code): o for o in campaign.options}
    wanted = {}
    for plural in OPTION_KINDS:
        kind = _singular(plural)
        for position, item in enumerate(data[plural]):
            wanted[(kind, item["code"])] = {
                "label": item.get("label", item["code"]),
                "description": item.get("description", ""),
                "position": position,
                "weight": float(item.get("weight", 1.0)),
            }
    changed = not campaign.options_stamp
    for key, values in wanted.items():
        row = existing.get(key)
        if row is None:
            CampaignOption.create(campaign=campaign, kind=key[0], code=key[1], **values)
            changed = True
        elif any(getattr(row, name) != value for name, value in values.items()):
            CampaignOption.update(**values).where(CampaignOption.id == row.id).execute()
            changed = True
    stale = [row.id for key, row in existing.items() if key not in wanted]
    if stale:
        CampaignOption.delete().where(CampaignOption.id.in_(stale)).execute()
    if changed or stale:
        restamp_options(campaign)


def restamp_options(campaign: Campaign) -> None:
    """Give the campaign a new options stamp, in the transaction that changed its options:
    every process then reads them again on its next request. The only writers of options are
    this module and `settings_admin`; an option changed by hand in SQL needs this too."""
    Campaign.update(options_stamp=uuid.uuid4().hex).where(Campaign.id == campaign.id).execute()


def _singular(plural: str) -> str:
    return "criterion" if plural == "criteria" else plural[:-1]


def seed_default_campaign() -> tuple[Campaign, bool]:
    """Create the 2021 campaign from the plan if it is missing (idempotent)."""
    return apply_definition(read_definition(DEFAULT_PLAN))


_CURRENT = Prepared(lambda: Campaign.select().where(Campaign.is_current).limit(1))


def current_campaign() -> Campaign | None:
    """The campaign the mini-program and the public pages show (read on every request)."""
    return _CURRENT.first()


def option_codes(campaign: Campaign, *kinds: str) -> dict[str, set[str]]:
    """kind → the campaign's option codes of that kind."""
    return {kind: {option.code for option in options(campaign, kind)} for kind in kinds}


_OPTIONS = Prepared(
    lambda campaign_id, kind: (
        CampaignOption.select()
        .where((CampaignOption.campaign == campaign_id) & (CampaignOption.kind == kind))
        .order_by(CampaignOption.position)
    ),
    2_000_000_001,
    "prepared-sample:kind",
)


# (options stamp, kind) → the rows read under that stamp
_read_options: dict[tuple[str, str], tuple[CampaignOption, ...]] = {}
MAX_READ_OPTIONS = 256


def options(campaign: Campaign, kind: str) -> list[CampaignOption]:
    """A campaign's options of one kind (`domain`, `criterion`, …), in the file's order.
    Validation reads them on every save, so a process keeps what it read under the campaign
    row's `options_stamp` (the row is read with every request's session anyway) and asks the
    database again only when the stamp has changed. Read-only: the rows are shared."""
    if not isinstance(campaign, Campaign) or not campaign.options_stamp:
        return _OPTIONS.rows(campaign.id if isinstance(campaign, Campaign) else campaign, kind)
    key = (campaign.options_stamp, kind)
    found = _read_options.get(key)
    if found is None:
        if len(_read_options) >= MAX_READ_OPTIONS:
            _read_options.clear()
        found = _read_options[key] = tuple(_OPTIONS.rows(campaign.id, kind))
    return list(found)
