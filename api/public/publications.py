"""`GET /api/v1/publications/current` and `/api/v1/publications/<id>`: the public lists as
JSON, the same content as the page (/p/), served from the publication cache; and
`POST /api/v1/publications/<id>/objections` for the mini-program's objection form."""

import json

from flask import Blueprint, jsonify, request

from api.errors import HTTP_ERRORS, ApiError
from api.payload import json_object
from api.public.cached import cached_response
from api.public.limits import objection_allowed
from campaign.definition import current_campaign
from campaign.publication import lists, objections, public
from models import Publication
from storage import get_storage
from tasks import publication_cache

bp = Blueprint("public_publications_api", __name__, url_prefix="/api/v1/publications")

JSON = "application/json"


@bp.get("/current")
def current():
    return cached_response(publication_cache.fetch("json:current", lambda: _build(None)))


@bp.post("/<int:publication_id>/objections")
def file_objection(publication_id: int):
    """A real-name objection from the mini-program (JSON, or a form with the unit's stamped
    letter as `letter`); the same rules and limits as the H5 form. Answers only an id: nothing
    filed is ever shown back to the public."""
    publication = Publication.get_or_none(Publication.id == publication_id)
    if publication is None:
        raise ApiError(404, *HTTP_ERRORS[404])
    upload = request.files.get("letter")
    data = request.form.to_dict() if request.files or request.form else json_object()
    if not objection_allowed(data.get("phone")):
        raise ApiError(429, *HTTP_ERRORS[429])
    try:
        objection = objections.file_objection(
            publication,
            data,
            "h5",
            "public:api",
            letter=upload.stream if upload and upload.filename else None,
            storage=get_storage(),
        )
    except objections.ObjectionInvalid as invalid:
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", invalid.problems) from None
    except objections.ObjectionRefused as refused:
        raise ApiError(409, refused.code, refused.message) from None
    return jsonify(
        id=objection.id, state=objection.state, message="异议已收到，我们将核实后答复"
    ), 201


@bp.get("/<int:publication_id>")
def one(publication_id: int):
    key = f"json:{publication_id}"
    return cached_response(publication_cache.fetch(key, lambda: _build(publication_id)))


def _build(publication_id: int | None) -> tuple[bytes, str, float, int]:
    campaign = current_campaign()
    if publication_id is None:
        publication = lists.current(campaign)
    else:
        publication = Publication.get_or_none(Publication.id == publication_id)
        campaign = publication.campaign if publication else campaign
    expires = public.valid_until(publication, campaign)
    if publication is None:
        code, message = "no_publication", "名单尚未公布"
        if publication_id is not None:
            code, message = HTTP_ERRORS[404]
        body = {"error": {"code": code, "message": message, "fields": []}}
        return _encode(body), JSON, expires, 404
    return _encode(public.payload(publication)), JSON, expires, 200


def _encode(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
