"""`GET /api/v1/org/units`: the campaign's units for organizers, filtered, searched, paged.
Phones are masked unless the organizer holds the PII right."""

from flask import Blueprint, jsonify, request

from api.access import open_campaign
from api.security import current_account, role_required
from api.unit.entries import list_filters
from campaign.entries import search
from campaign.pii import mask_phone
from models import Entry, Unit

bp = Blueprint("org_units_api", __name__, url_prefix="/api/v1/org")
PAGE_MAX = 200


@bp.get("/units")
@role_required("organizer")
def list_units():
    """Filters `region`, `domain`, `org_level`; `q` searches name and contact name."""
    filters, text = list_filters(search.UNIT_FILTERS)
    query = search.units(open_campaign(), filters, text)
    page = min(max(request.args.get("page", 1, type=int), 1), 100_000)
    size = min(max(request.args.get("size", 50, type=int), 1), PAGE_MAX)
    total = query.count()
    pii = current_account().pii
    items = [unit_row(unit, pii) for unit in query.order_by(Unit.id.desc()).paginate(page, size)]
    return jsonify(total=total, page=page, size=size, items=items)


def unit_row(unit: Unit, pii: bool) -> dict:
    return {
        "id": unit.id,
        "name": unit.name,
        "region": unit.region,
        "domain": unit.domain,
        "org_level": unit.org_level,
        "contact_name": unit.contact_name,
        "contact_phone": unit.contact_phone if pii else mask_phone(unit.contact_phone),
        "entries": Entry.select().where(Entry.unit == unit.id).count(),
    }
