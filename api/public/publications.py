"""`GET /api/v1/publications/current` and `/api/v1/publications/<id>`: the public lists as
JSON, the same content as the page (/p/), served from the publication cache."""

import json

from flask import Blueprint

from api.errors import HTTP_ERRORS
from api.public.cached import cached_response
from campaign.definition import current_campaign
from campaign.publication import lists, public
from models import Publication
from tasks import publication_cache

bp = Blueprint("public_publications_api", __name__, url_prefix="/api/v1/publications")

JSON = "application/json"


@bp.get("/current")
def current():
    return cached_response(publication_cache.fetch("json:current", lambda: _build(None)))


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
