"""`/h5/unit`: the unit profile (region, domain, level, contact), through `campaign.units`.

The phone is shown masked once saved; leaving the field empty keeps the saved number (or
the one bound from WeChat), as `PUT /api/v1/me/unit` does.
"""

from flask import Blueprint, redirect, render_template, request

from api.access import own_unit
from campaign.pii import mask_phone
from campaign.problems import Invalid
from campaign.units import FIELDS, save_unit
from pages.h5.common import by_field, choices, signed_in, the_campaign

bp = Blueprint("profile", __name__)


@bp.get("/unit")
def show_unit():
    signed_in()
    campaign = the_campaign()
    unit = own_unit(campaign)
    values = {name: getattr(unit, name) for name in FIELDS} if unit else {}
    return _page(campaign, unit, values, {}, request.args.get("done"))


@bp.post("/unit")
def save():
    user = signed_in()
    campaign = the_campaign()
    unit = own_unit(campaign)
    data = {name: request.form.get(name, "") for name in FIELDS}
    if not data["contact_phone"].strip():
        data["contact_phone"] = (unit.contact_phone if unit else None) or user.phone or ""
    try:
        unit = save_unit(campaign, user, unit, data)
    except Invalid as invalid:
        data["contact_phone"] = request.form.get("contact_phone", "")
        return _page(campaign, unit, data, by_field(invalid.problems), None), 422
    if request.form.get("next") == "entry":
        return redirect("/h5/entries", 303)
    return redirect("/h5/unit?done=saved", 303)


def _page(campaign, unit, values: dict, problems: dict, done):
    values = dict(values)
    masked = mask_phone(unit.contact_phone) if unit else None
    if unit and values.get("contact_phone") == unit.contact_phone:
        values["contact_phone"] = ""  # never echo the saved number: it shows masked
    return render_template(
        "h5/unit.html",
        unit=unit,
        values=values,
        masked=masked,
        problems=problems,
        done=done,
        next=request.values.get("next", ""),
        **choices(campaign),
    )
