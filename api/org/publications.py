"""Organizer endpoints for the public lists and 公示 (/api/v1/org/publications/…): preview,
publish, window dates, finalize, 递补 (republish), objections and their handling.

Thin: the rules live in campaign.publication; every change here also drops the public cache so
the page and its JSON are rebuilt on their next request.
"""

from functools import wraps

from flask import Blueprint, jsonify, request, send_file

from api.access import open_campaign
from api.errors import ApiError
from api.payload import json_object
from api.security import console_actor, role_required
from campaign.clock import iso_local
from campaign.problems import problem
from campaign.publication import consent, lists, objections, public
from models import Entry, Objection, Publication
from storage import StorageError, get_storage
from tasks import publication_cache

bp = Blueprint("org_publications_api", __name__, url_prefix="/api/v1/org/publications")

INVALID = "提交的内容未通过校验"


def changes_publications(view):
    """Turn the rules' refusals into 422/409 answers, and drop the public cache on success."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        try:
            response = view(*args, **kwargs)
        except (lists.PublicationInvalid, objections.ObjectionInvalid) as invalid:
            raise ApiError(422, "validation_failed", INVALID, invalid.problems) from None
        except lists.PublicationRefused as refused:
            raise ApiError(409, refused.code, refused.message) from None
        except objections.ObjectionRefused as refused:
            raise ApiError(409, refused.code, refused.message) from None
        publication_cache.invalidate()
        return response

    return wrapped


@bp.get("")
@role_required("organizer")
def list_publications():
    rows = (
        Publication.select()
        .where(Publication.campaign == open_campaign())
        .order_by(Publication.kind, Publication.version)
    )
    return jsonify(items=[_summary(p) for p in rows])


@bp.get("/preview")
@role_required("organizer")
def preview():
    """What publishing `kind` now would freeze (nothing is written)."""
    kind = request.args.get("kind", "")
    if kind not in lists.KINDS:
        raise ApiError(422, "validation_failed", INVALID, [problem("kind", "invalid_choice")])
    label = request.args.get("withheld_label") or lists.DEFAULT_WITHHELD
    lines = lists.candidates(open_campaign(), kind, label[:64])
    withheld = sum(1 for line in lines if line["unit_withheld"])
    return jsonify(kind=kind, total=len(lines), withheld=withheld, items=lines)


@bp.post("")
@role_required("organizer")
@changes_publications
def publish():
    publication = lists.publish(open_campaign(), json_object(), console_actor())
    return jsonify(_detail(publication)), 201


@bp.get("/<int:publication_id>")
@role_required("organizer")
def show(publication_id: int):
    return jsonify(_detail(_publication(publication_id)))


@bp.put("/<int:publication_id>/window")
@role_required("organizer")
@changes_publications
def set_window(publication_id: int):
    publication = lists.set_window(_publication(publication_id), json_object(), console_actor())
    return jsonify(_detail(publication))


@bp.post("/<int:publication_id>/finalize")
@role_required("organizer")
@changes_publications
def finalize(publication_id: int):
    return jsonify(_detail(lists.finalize(_publication(publication_id), console_actor())))


@bp.post("/<int:publication_id>/republish")
@role_required("organizer")
@changes_publications
def republish(publication_id: int):
    publication = lists.republish(_publication(publication_id), json_object(), console_actor())
    return jsonify(_detail(publication)), 201


@bp.get("/<int:publication_id>/objections")
@role_required("organizer")
def list_objections(publication_id: int):
    publication = _publication(publication_id)
    rows = publication.objections.order_by(Objection.id)
    timezone = publication.campaign.timezone
    return jsonify(items=[objections.payload(o, timezone) for o in rows])


@bp.post("/<int:publication_id>/objections")
@role_required("organizer")
@changes_publications
def enter_objection(publication_id: int):
    """Staff enter a phone call, letter or visit: JSON, or a form with the letter as `letter`."""
    publication = _publication(publication_id)
    upload = request.files.get("letter")
    data = request.form.to_dict() if request.files or request.form else json_object()
    objection = objections.file_staff_objection(
        publication,
        data,
        console_actor(),
        letter=upload.stream if upload and upload.filename else None,
        storage=get_storage(),
    )
    return jsonify(objections.payload(objection, publication.campaign.timezone)), 201


@bp.post("/objections/<int:objection_id>/handle")
@role_required("organizer")
@changes_publications
def handle_objection(objection_id: int):
    objection = objections.handle(_objection(objection_id), json_object(), console_actor())
    return jsonify(objections.payload(objection, objection.publication.campaign.timezone))


@bp.get("/objections/<int:objection_id>/letter")
@role_required("organizer")
def objection_letter(objection_id: int):
    return letter_file(_objection(objection_id))


def letter_file(objection: Objection):
    """The stamped letter kept with an objection (also served by the console)."""
    if not objection.letter_key:
        raise ApiError(404, "no_file", "该异议没有书面材料")
    try:
        stream = get_storage().open(objection.letter_key)
    except StorageError:
        raise ApiError(404, "file_missing", "文件不存在或已被删除") from None
    response = send_file(stream, mimetype=objection.letter_mime)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.put("/consents/<int:entry_id>")
@role_required("organizer")
@changes_publications
def record_consent(entry_id: int):
    """Consent to publish the unit's name, given to the organizer outside the app."""
    granted = json_object().get("granted")
    if not isinstance(granted, bool):
        raise ApiError(422, "validation_failed", INVALID, [problem("granted", "required")])
    entry = Entry.get_or_none((Entry.id == entry_id) & (Entry.campaign == open_campaign()))
    if entry is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    consent.record_consent(entry, granted, console_actor())
    return jsonify(entry=entry.id, name_consent=granted)


def _publication(publication_id: int) -> Publication:
    publication = Publication.get_or_none(
        (Publication.id == publication_id) & (Publication.campaign == open_campaign())
    )
    if publication is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return publication


def _objection(objection_id: int) -> Objection:
    objection = (
        Objection.select()
        .join(Publication)
        .where((Objection.id == objection_id) & (Publication.campaign == open_campaign()))
        .first()
    )
    if objection is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return objection


def _summary(publication: Publication) -> dict:
    return {
        "id": publication.id,
        "kind": publication.kind,
        "version": publication.version,
        "state": publication.state,
        "title": publication.title,
        "starts_on": str(publication.starts_on),
        "ends_on": str(publication.ends_on),
        "items": publication.items.count(),
        "open_objections": lists.open_objections(publication),
        "reason": publication.reason,
        "published_by": publication.published_by,
        "published_at": iso_local(publication.published_at, publication.campaign.timezone),
        "finalized_at": iso_local(publication.finalized_at, publication.campaign.timezone),
    }


def _detail(publication: Publication) -> dict:
    """The summary, the public content, and each line's entry id (for organizers only)."""
    entries = [item.entry_id for item in lists.items(publication)]
    content = public.payload(publication)
    for line, entry_id in zip(content["items"], entries, strict=True):
        line["entry"] = entry_id
    return {
        **_summary(publication),
        **content,
        "withheld_label": publication.withheld_label,
        "withdrawn_entries": sorted(lists.withdrawn_entries(publication)),
    }
