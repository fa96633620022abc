"""A winning unit's mail-in: its status and checklist, and its forms to print (DESIGN §5.5).

A unit sees only its own winners. With more than one winning entry, the form endpoints take
`?entry=<id>`; with one, it may be left out.
"""

from flask import Blueprint, jsonify, request

from api.access import open_campaign, own_unit
from api.errors import ApiError
from api.files import document
from api.security import login_required
from campaign.mailin import rules
from campaign.mailin.forms import form_data
from drawing import forms

bp = Blueprint("unit_mailin_api", __name__, url_prefix="/api/v1/me/mailin")


def _mine() -> list[rules.Winner]:
    campaign = open_campaign()
    unit = own_unit(campaign)
    return rules.winners(campaign, unit=unit) if unit else []


@bp.get("")
@login_required
def status():
    """Every winning entry of the caller's unit with its mail-in status and checklist."""
    timezone = open_campaign().timezone
    return jsonify(items=[_with_downloads(rules.payload(found, timezone)) for found in _mine()])


def _with_downloads(item: dict) -> dict:
    """The item with the paths of its forms, so clients need not build them."""
    query = f"?entry={item['entry']['id']}"
    names = ("form.pdf", "form.docx", "cover.pdf")
    return {**item, "downloads": {name: f"{bp.url_prefix}/{name}{query}" for name in names}}


def _chosen() -> rules.Winner:
    mine = _mine()
    asked = request.args.get("entry", type=int)
    if asked is not None:
        mine = [found for found in mine if found.entry.id == asked]
    if not mine:
        raise ApiError(404, "not_found", "请求的内容不存在")
    if len(mine) > 1:
        field = {"field": "entry", "code": "required", "message": "请选择入选案例",
                 "choices": [found.entry.id for found in mine]}  # fmt: skip
        raise ApiError(422, "validation_failed", "请选择要下载哪一个入选案例的材料", [field])
    return mine[0]


@bp.get("/form.pdf")
@login_required
def form_pdf():
    data = form_data(open_campaign(), _chosen())
    return document(forms.registration_pdf(data), f"登记表-{data.short_code}.pdf", "form.pdf")


@bp.get("/form.docx")
@login_required
def form_docx():
    data = form_data(open_campaign(), _chosen())
    content = forms.registration_docx(data)
    return document(content, f"登记表-{data.short_code}.docx", "form.docx")


@bp.get("/cover.pdf")
@login_required
def cover_pdf():
    data = form_data(open_campaign(), _chosen())
    return document(forms.cover_pdf(data), f"寄送封面-{data.short_code}.pdf", "cover.pdf")
