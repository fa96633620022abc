"""Organizer pages over objections (公示异议) as tickets: the list with a state filter, the
staff entry of a phone call, letter (with its postmark date) or visit, and one ticket moving
received → verifying → upheld / rejected / withdrawn, or 不予受理.

The rules are `campaign.publication.objections`, as for the API: an upheld objection withdraws
the award there (audited); the list changes only through a 递补 on the list's page."""

from flask import Blueprint, redirect, request, url_for

from api.errors import ApiError
from api.org.publications import changes_publications, letter_file
from campaign.publication import lists, objections
from models import Objection, Publication, PublicationItem
from pages.console.layout import actor, campaign_or_404, page_for, paginate, render
from pages.console.publication import publication_of
from storage import get_storage

bp = Blueprint("objections", __name__)

CHANNEL_LABELS = {"h5": "网上提交", "phone": "电话", "letter": "信函", "visit": "来访"}
FILER_LABELS = {"person": "个人", "unit": "单位", "anonymous": "匿名"}
ACTION_LABELS = {
    objections.VERIFYING: "开始核查",
    objections.UPHELD: "异议成立（撤销入选）",
    objections.REJECTED: "异议不成立",
    objections.WITHDRAWN: "已撤回",
    objections.NOT_ACCEPTED: "不予受理",
}
ENTRY_FIELDS = (
    "received_via",
    "filer_kind",
    "name",
    "phone",
    "unit_name",
    "content",
    "item",
    "postmark_on",
)


@bp.get("/objections")
@page_for("organizer")
def index():
    wanted = {"state": request.args.get("state", ""), "kind": request.args.get("kind", "")}
    query = (
        Objection.select(Objection, Publication)
        .join(Publication)
        .where(Publication.campaign == campaign_or_404())
    )
    if wanted["state"] == "open":
        query = query.where(Objection.state.in_(lists.OPEN_OBJECTIONS))
    elif wanted["state"] in objections.LABELS:
        query = query.where(Objection.state == wanted["state"])
    if wanted["kind"] in lists.KINDS:
        query = query.where(Publication.kind == wanted["kind"])
    return render(
        "console/publication_objections.html",
        "results",
        pager=paginate(query.order_by(Objection.id.desc())),
        wanted=wanted,
        states=objections.LABELS,
        kinds=lists.KINDS,
        channels=CHANNEL_LABELS,
        filers=FILER_LABELS,
    )


@bp.post("/publications/<int:publication_id>/objections")
@page_for("organizer")
@changes_publications
def enter(publication_id: int):
    """Staff enter a phone call, a letter (postmark date; the scan is optional) or a visit."""
    publication = publication_of(publication_id)
    data = {name: request.form[name] for name in ENTRY_FIELDS if name in request.form}
    upload = request.files.get("letter")
    objection = objections.file_staff_objection(
        publication,
        data,
        actor(),
        letter=upload.stream if upload and upload.filename else None,
        storage=get_storage(),
    )
    return _to(objection)


@bp.get("/objections/<int:objection_id>")
@page_for("organizer")
def show(objection_id: int):
    objection = _objection(objection_id)
    item = None
    if objection.entry_id:
        item = objection.publication.items.where(
            PublicationItem.entry == objection.entry_id
        ).first()
    return render(
        "console/publication_objection.html",
        objection=objection,
        item=item,
        states=objections.LABELS,
        channels=CHANNEL_LABELS,
        filers=FILER_LABELS,
        actions={
            to: ACTION_LABELS[to]
            for to in objections.STATES
            if to in objections.TRANSITIONS.get(objection.state, ())
        },  # fmt: skip
        needs_reply=objections.NEEDS_REPLY,
        entry_status=objection.entry.status if objection.entry_id else None,
    )


@bp.post("/objections/<int:objection_id>/handle")
@page_for("organizer")
@changes_publications
def handle(objection_id: int):
    form = request.form
    data = {"to": form.get("to"), "reply": form.get("reply", ""), "handler": form.get("handler")}
    return _to(objections.handle(_objection(objection_id), data, actor()))


@bp.get("/objections/<int:objection_id>/letter")
@page_for("organizer")
def letter(objection_id: int):
    return letter_file(_objection(objection_id))


def _objection(objection_id: int) -> Objection:
    objection = (
        Objection.select(Objection, Publication)
        .join(Publication)
        .where((Objection.id == objection_id) & (Publication.campaign == campaign_or_404()))
        .first()
    )
    if objection is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return objection


def _to(objection: Objection):
    location = url_for("console.objections.show", objection_id=objection.id)
    if request.headers.get("HX-Request"):
        return "", 204, {"HX-Redirect": location}
    return redirect(location, 303)
