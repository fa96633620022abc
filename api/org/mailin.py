"""The mailroom: list winners' mail-ins, receive a package by its code, tick the checklist,
note what is missing, complete, and export it all to Excel (DESIGN §5.5)."""

import uuid

from flask import Blueprint, jsonify, request

from api.access import open_campaign
from api.errors import ApiError, error_response
from api.files import document
from api.payload import json_object
from api.security import console_actor, current_account, role_required
from campaign.mailin import rules
from campaign.mailin.export import workbook
from campaign.redeem import engine

bp = Blueprint("org_mailin_api", __name__, url_prefix="/api/v1/org/mailin")


@bp.errorhandler(rules.MailInInvalid)
def _invalid(error: rules.MailInInvalid):
    return error_response(422, "validation_failed", "提交的内容未通过校验", error.problems)


@bp.errorhandler(rules.MailInRefused)
def _refused(error: rules.MailInRefused):
    return error_response(409, error.code, error.message, error.problems)


@bp.get("")
@role_required("organizer")
def list_mailins():
    """Every winner's mail-in, optionally of one `status`, with counts per status."""
    wanted = request.args.get("status")
    if wanted is not None and wanted not in rules.STATUSES:
        field = {"field": "status", "code": "invalid_choice", "message": "选项无效"}
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", [field])
    campaign = open_campaign()
    everyone = rules.winners(campaign)
    counts = {state: 0 for state in rules.STATUSES}
    for found in everyone:
        counts[found.mailin.status] += 1
    shown = [f for f in everyone if wanted is None or f.mailin.status == wanted]
    return jsonify(
        counts=counts, items=[rules.payload(found, open_campaign().timezone) for found in shown]
    )


@bp.post("/receive")
@role_required("organizer")
def receive():
    """The mailroom scanned a cover QR or typed its short code: mark it received (again is
    harmless: `already_received` is true and nothing changes). It is a scan like the
    console's, through the one engine; an optional `nonce` makes a retry answer the same."""
    campaign = open_campaign()
    data = json_object()
    found = rules.find_by_code(campaign, data.get("code"))
    if found is None:
        raise ApiError(404, "unknown_code", "没有找到这个编码对应的入选材料，请核对后重试")
    nonce = data.get("nonce")
    if not isinstance(nonce, str) or not nonce.strip() or not nonce.isprintable():
        nonce = uuid.uuid4().hex
    outcome = engine.redeem(
        found.token,
        nonce[:64],
        None,
        console_actor(),
        campaign_id=campaign.id,
        actor_name=current_account().display_name,
    )
    return jsonify(
        already_received=outcome.status == engine.ALREADY_REDEEMED,
        mailin=rules.payload(_winner(found.id), campaign.timezone),
    )


@bp.post("/<int:mailin_id>/checklist")
@role_required("organizer")
def checklist(mailin_id: int):
    found = _winner(mailin_id)
    rules.tick(found.mailin, json_object().get("items"), console_actor())
    return jsonify(_shown(mailin_id))


@bp.post("/<int:mailin_id>/incomplete")
@role_required("organizer")
def incomplete(mailin_id: int):
    data = json_object()
    found = _winner(mailin_id)
    rules.mark_incomplete(found.mailin, data.get("missing"), data.get("note"), console_actor())
    return jsonify(_shown(mailin_id))


@bp.post("/<int:mailin_id>/complete")
@role_required("organizer")
def complete(mailin_id: int):
    found = _winner(mailin_id)
    data = request.get_json(silent=True)  # a body is optional here
    note = data.get("note") if isinstance(data, dict) else None
    rules.mark_complete(found.mailin, note, console_actor())
    return jsonify(_shown(mailin_id))


@bp.get("/export.xlsx")
@role_required("organizer")
def export():
    return document(workbook(open_campaign()), "入选材料邮寄情况.xlsx", "mailin.xlsx")


def _winner(mailin_id: int) -> rules.Winner:
    found = rules.winner(open_campaign(), mailin_id)
    if found is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return found


def _shown(mailin_id: int) -> dict:
    return rules.payload(_winner(mailin_id), open_campaign().timezone)
