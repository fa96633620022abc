"""Organizer page over registered units: who registered, where, with how many entries."""

from flask import Blueprint, request
from peewee import JOIN, fn

from campaign.accounts import may_see_pii
from campaign.pii import mask_phone
from models import Entry, Unit
from pages.console.layout import account, campaign_or_404, page_for, paginate, render

bp = Blueprint("units", __name__)


@bp.get("/units")
@page_for("organizer")
def index():
    campaign = campaign_or_404()
    query = (
        Unit.select(Unit, fn.COUNT(Entry.id).alias("entry_count"))
        .join(Entry, JOIN.LEFT_OUTER, on=(Entry.unit == Unit.id))
        .where((Unit.campaign == campaign) & Unit.merged_into.is_null())
        .group_by(Unit.id)
    )
    q = request.args.get("q", "").strip()[:100]
    if q:
        query = query.where(Unit.name.contains(q))
    return render(
        "console/units.html",
        pager=paginate(query.order_by(Unit.id.desc())),
        q=q,
        phone=_phone_shown(),
    )


def _phone_shown():
    """Whole numbers for accounts with the PII right, masked for everyone else."""
    if may_see_pii(account()):
        return lambda phone: phone or "—"
    return lambda phone: mask_phone(phone) if phone else "—"
