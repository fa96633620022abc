"""Organizer endpoints of the board: the numbers per track and domain, the chair's queue,
the committee re-review (复核), the published 专家点评, and the exports."""

from flask import Blueprint, Response, jsonify, request

from api.access import open_campaign
from api.files import document
from api.org.review import not_found
from api.payload import json_object
from api.security import console_actor, role_required
from campaign.problems import is_row_id
from campaign.review import board, comments, exports, holds
from campaign.review.refusals import Invalid
from models import Entry

bp = Blueprint("org_board_api", __name__, url_prefix="/api/v1/org/review")


def _entry(entry_id: int) -> Entry:
    entry = Entry.get_or_none((Entry.id == entry_id) & (Entry.campaign == open_campaign()))
    if entry is None:
        raise not_found()
    return entry


@bp.get("/board")
@role_required("organizer")
def get_board():
    track = request.args.get("track") or None
    domain = request.args.get("domain") or None
    return jsonify(board.board(open_campaign(), track, domain))


def _ruling(entry_id: int, kind: str):
    data = json_object()
    note = data.get("note") if isinstance(data.get("note"), str) else ""
    hold = holds.rule(_entry(entry_id), kind, data.get("outcome"), note, console_actor())
    return jsonify(entry=entry_id, kind=kind, state=hold.state, outcome=hold.outcome)


@bp.post("/entries/<int:entry_id>/chair")
@role_required("organizer")
def chair_ruling(entry_id: int):
    return _ruling(entry_id, "chair")


@bp.post("/entries/<int:entry_id>/recheck")
@role_required("organizer")
def recheck_ruling(entry_id: int):
    return _ruling(entry_id, "recheck")


@bp.post("/recheck")
@role_required("organizer")
def send_to_recheck():
    """`{"entries": [ids]}`, or `{"track": "case"}` for that track's borderline band."""
    data = json_object()
    campaign = open_campaign()
    if "entries" in data:
        ids = data["entries"]
        if not isinstance(ids, list) or not all(is_row_id(i) for i in ids):
            raise Invalid([{"field": "entries", "code": "invalid_type", "message": "格式不正确"}])
    elif data.get("track") in ("brand", "case"):
        ids = board.borderline(campaign, data["track"])
    else:
        raise Invalid([{"field": "track", "code": "required", "message": "此项为必填项"}])
    return jsonify(sent=holds.open_recheck(campaign, ids, console_actor()))


@bp.put("/entries/<int:entry_id>/comment")
@role_required("organizer")
def publish_comment(entry_id: int):
    return jsonify(comments.publish_comment(_entry(entry_id), json_object(), console_actor()))


@bp.get("/entries/<int:entry_id>/summary.pdf")
@role_required("organizer")
def summary_pdf(entry_id: int):
    body = exports.summary_pdf(_entry(entry_id))
    return Response(body, mimetype="application/pdf")


@bp.get("/scores.xlsx")
@role_required("organizer")
def score_sheet():
    body = exports.score_sheet(open_campaign())
    return document(body, "专家评分表.xlsx", "scores.xlsx")
