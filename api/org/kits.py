"""Organizer endpoints for kit ZIPs: one department's codes and posters, or everyone's."""

from flask import Blueprint, jsonify

from api.access import campaign_row, open_campaign
from api.files import stored_file
from api.org.channels import department_or_problem
from api.payload import optional_object
from api.security import console_actor, role_required
from campaign.problems import Refused, refuse_if
from models import KitArchive
from tasks.qrcodes import request_kit

bp = Blueprint("org_kits_api", __name__, url_prefix="/api/v1/org")


@bp.post("/kits")
@role_required("organizer")
def create_kit():
    """A ZIP of one department's kit, or of every department's (no `department_id`)."""
    campaign = open_campaign()
    data = optional_object()
    problems = []
    department = None
    if data.get("department_id") is not None:
        department = department_or_problem(campaign, data["department_id"], problems)
    refuse_if(problems)
    archive = request_kit(campaign.id, department.id if department else None, console_actor())
    return jsonify(kit_payload(archive)), 202


@bp.get("/kits/<int:kit_id>")
@role_required("organizer")
def show_kit(kit_id: int):
    return jsonify(kit_payload(_kit(kit_id)))


@bp.get("/kits/<int:kit_id>/file")
@role_required("organizer")
def download_kit(kit_id: int):
    return kit_file(_kit(kit_id))


def kit_file(archive: KitArchive):
    """A kit ZIP as a download, once it is ready (the API's and the console's)."""
    if archive.status != "ready" or not archive.storage_key:
        raise Refused("kit_not_ready", archive.error or "推广码压缩包正在生成，请稍后再试")
    name = (
        f"推广码-{archive.department.name}.zip"
        if archive.department_id
        else "推广码-全部推荐单位.zip"
    )
    return stored_file(archive.storage_key, "application/zip", name, "kit.zip")


def kit_payload(archive: KitArchive) -> dict:
    ready = archive.status == "ready"
    return {
        "id": archive.id,
        "department_id": archive.department_id,
        "status": archive.status,
        "done": archive.done,
        "total": archive.total,
        "size": archive.size,
        "error": archive.error,
        "file": f"{bp.url_prefix}/kits/{archive.id}/file" if ready else None,
    }


def _kit(kit_id: int) -> KitArchive:
    return campaign_row(KitArchive, kit_id)
