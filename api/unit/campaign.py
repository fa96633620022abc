"""`GET /api/v1/campaign`: the current campaign, as the mini-program renders it."""

from flask import Blueprint, jsonify

from api.access import open_campaign
from campaign.clock import iso_local
from campaign.definition import options
from models import Campaign

bp = Blueprint("campaign_api", __name__, url_prefix="/api/v1")


@bp.get("/campaign")
def show_campaign():
    return jsonify(campaign_payload(open_campaign()))


def campaign_payload(campaign: Campaign) -> dict:
    """The public description of a campaign (DESIGN §9 field names)."""
    tz = campaign.timezone
    payload = {
        "id": campaign.id,
        "slug": campaign.slug,
        "title": campaign.title,
        "theme": campaign.theme,
        "organizer": campaign.organizer,
        "timezone": tz,
        "stage": campaign.stage,
        "opens_at": iso_local(campaign.opens_at, tz),
        "closes_at": iso_local(campaign.closes_at, tz),
        "grace_minutes": campaign.grace_minutes,
        "limits": campaign.limits,
        "quotas": campaign.quotas,
        "contact": campaign.contact,
        "regions": campaign.regions,
        "org_levels": campaign.org_levels,
    }
    for kind, key in LISTINGS:
        payload[key] = [_option_payload(o) for o in options(campaign, kind)]
    return payload


LISTINGS = (
    ("domain", "domains"),
    ("theme", "themes"),
    ("route", "routes"),
    ("criterion", "criteria"),
    ("stage", "stages"),
    ("element", "elements"),
    ("track", "tracks"),
)


def _option_payload(option) -> dict:
    """`{code, label}`, plus the plan's description and the weight where they mean something."""
    item = {"code": option.code, "label": option.label}
    if option.description:
        item["description"] = option.description
    if option.kind == "criterion":
        item["weight"] = option.weight
    return item
