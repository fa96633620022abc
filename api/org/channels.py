"""Organizer endpoints for channels and their QR codes (DESIGN §5.1, §6).

Codes are never drawn here: creating a channel enqueues the jobs that draw and fetch them
(`tasks.qrcodes`), and their files are served from storage.
"""

from flask import Blueprint, jsonify, request

from api.access import campaign_row, open_campaign
from api.files import stored_file
from api.org.funnels import query_id
from api.payload import boolean_field, json_object, optional_object, text_field
from api.security import console_actor, role_required
from campaign.channels import assets as codes
from campaign.channels import departments as admin
from campaign.problems import NotFound, Refused, is_row_id, refuse_if
from config import current_settings
from models import Campaign, Channel, Department
from pages.scan_buffer import sync_codes
from tasks.qrcodes import enqueue_codes

bp = Blueprint("org_channels_api", __name__, url_prefix="/api/v1/org")


@bp.get("/channels")
@role_required("organizer")
def list_channels():
    campaign = open_campaign()
    query = Channel.select().where(Channel.campaign == campaign)
    if query_id("department_id") is not None:
        query = query.where(Channel.department == query_id("department_id"))
    if request.args.get("route"):
        query = query.where(Channel.route == request.args["route"])
    channels = list(query.order_by(Channel.id))
    assets = codes.assets_of([c.id for c in channels])
    items = [channel_payload(c, assets[c.id]) for c in channels]
    return jsonify(items=items, mp_qr=codes.mp_qr_usage())


@bp.post("/channels")
@role_required("organizer")
def create_channel():
    """A department's extra channel, or (no `department_id`) a public online-route channel."""
    campaign = open_campaign()
    data = json_object()
    problems = []
    label = text_field(data, "label", problems, admin.MAX_LENGTH["label"], required=True)
    department = None
    if data.get("department_id") is not None:
        department = department_or_problem(campaign, data["department_id"], problems)
    refuse_if(problems)
    channel = admin.create_channel(campaign, department, label, console_actor())
    enqueue_codes([channel.id])
    sync_codes([channel.code])
    payload = channel_payload(channel, {})
    return jsonify(**payload, mp_qr=codes.mp_qr_usage()), 201


@bp.get("/channels/<int:channel_id>")
@role_required("organizer")
def show_channel(channel_id: int):
    channel = _channel(channel_id)
    return jsonify(channel_payload(channel, codes.assets_of([channel.id])[channel.id]))


@bp.patch("/channels/<int:channel_id>")
@role_required("organizer")
def update_channel(channel_id: int):
    channel = _channel(channel_id)
    data = json_object()
    problems, values = [], {}
    if "label" in data:
        values["label"] = text_field(
            data, "label", problems, admin.MAX_LENGTH["label"], required=True
        )
    if "active" in data:
        values["active"] = boolean_field(data, "active", problems)
    refuse_if(problems)
    channel = admin.update_channel(channel, values, console_actor())
    sync_codes([channel.code])
    if "label" in values:
        enqueue_codes([channel.id], force=True)
    return jsonify(channel_payload(channel, codes.assets_of([channel.id])[channel.id]))


@bp.post("/channels/<int:channel_id>/codes")
@role_required("organizer")
def regenerate_codes(channel_id: int):
    """Draw the codes again (`force`: even existing ones; the official-account ticket stays)."""
    channel = _channel(channel_id)
    data = optional_object()
    problems = []
    force = boolean_field(data, "force", problems) if "force" in data else False
    refuse_if(problems)
    enqueue_codes([channel.id], force=force)
    return jsonify(channel_payload(channel, codes.assets_of([channel.id])[channel.id])), 202


@bp.get("/channels/<int:channel_id>/codes/<kind>")
@role_required("organizer")
def download_code(channel_id: int, kind: str):
    return code_file(_channel(channel_id), kind)


def code_file(channel: Channel, kind: str):
    """One of a channel's code files as a download (the API's and the console's)."""
    if kind not in codes.KINDS:
        raise NotFound()
    asset = codes.assets_of([channel.id])[channel.id].get(kind)
    if asset is None or asset.status != codes.READY:
        status = asset.status if asset else codes.PENDING
        message = (asset.error if asset and asset.error else None) or "该码正在生成，请稍后再试"
        raise Refused("code_not_ready", message, fields=[{"field": kind, "code": status}])
    name = f"{channel.label or channel.code}-{codes.KINDS[kind].file_name}"
    extension = asset.storage_key.rsplit(".", 1)[-1]
    name = name.rsplit(".", 1)[0] + "." + extension
    return stored_file(
        asset.storage_key, codes.mime_of(asset.storage_key), name, f"code.{extension}"
    )


@bp.get("/mp-qr-quota")
@role_required("organizer")
def mp_qr_quota():
    return jsonify(codes.mp_qr_usage())


def channel_payload(channel: Channel, assets: dict) -> dict:
    base_url = current_settings().public_base_url
    prefix = f"{bp.url_prefix}/channels/{channel.id}/codes/"
    return {
        "id": channel.id,
        "code": channel.code,
        "label": channel.label,
        "route": channel.route,
        "department_id": channel.department_id,
        "active": channel.active,
        "link": codes.link_url(base_url, channel.code),
        "codes": {
            kind: {
                "status": assets[kind].status if kind in assets else codes.PENDING,
                "error": assets[kind].error if kind in assets else None,
                "file": prefix + kind
                if kind in assets and assets[kind].status == "ready"
                else None,
            }
            for kind in codes.KINDS
        },
    }


def department_or_problem(campaign: Campaign, value, problems: list) -> Department | None:
    if not is_row_id(value):
        problems.append(admin.problem("department_id", "invalid_type"))
        return None
    department = Department.get_or_none(
        (Department.id == value) & (Department.campaign == campaign)
    )
    if department is None:
        problems.append(
            {"field": "department_id", "code": "unknown_department", "message": "推荐单位不存在"}
        )
    return department


def _channel(channel_id: int) -> Channel:
    return campaign_row(Channel, channel_id)
