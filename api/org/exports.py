"""Organizers' exports as jobs with progress: `POST /api/v1/org/exports` starts one, its
row tells how far it got, `…/file` downloads it when ready. Phone numbers are whole only
for organizers holding the PII right."""

from flask import Blueprint, jsonify

from api.access import open_campaign
from api.errors import ApiError
from api.files import stored_file
from api.payload import json_object
from api.security import console_actor, current_account, role_required
from campaign.channels import assets as codes
from campaign.clock import iso_local
from campaign.entries import exports, search
from campaign.problems import is_row_id
from models import Entry, ExportJob
from tasks.exports import request_export

bp = Blueprint("org_exports_api", __name__, url_prefix="/api/v1/org")

FILE_NAMES = {
    "entries": "案例.xlsx",
    "units": "单位.xlsx",
    "entry_pdf": "报名表-{entry}.pdf",
    "evidence_zip": "佐证材料.zip",
}


@bp.post("/exports")
@role_required("organizer")
def create():
    """`{"kind": "entries" | "units" | "entry_pdf" | "evidence_zip", "filters": {…}, "q": "…",
    "entry": id}` (filters and q as the lists take them; `entry` for `entry_pdf`)."""
    campaign = open_campaign()
    params = _params(campaign, json_object())
    job = request_export(
        campaign, params.pop("kind"), params, bool(current_account().pii), console_actor()
    )
    return jsonify(export_payload(job)), 202


@bp.get("/exports/<int:export_id>")
@role_required("organizer")
def show(export_id: int):
    return jsonify(export_payload(_export(export_id)))


@bp.get("/exports/<int:export_id>/file")
@role_required("organizer")
def download(export_id: int):
    job = _export(export_id)
    if job.status != "ready" or not job.storage_key:
        raise ApiError(409, "export_not_ready", job.error or "文件正在生成，请稍后再试")
    name = FILE_NAMES[job.kind].format(entry=(job.params or {}).get("entry"))
    extension = job.storage_key.rsplit(".", 1)[-1]
    return stored_file(job.storage_key, codes.mime_of(job.storage_key), name, f"export.{extension}")


def _params(campaign, data: dict) -> dict:
    """The clean request, or 422 listing every problem."""
    problems = []
    kind = data.get("kind")
    if kind not in exports.KINDS:
        problems.append(_problem("kind", "invalid_choice", "请选择导出内容"))
    allowed = search.UNIT_FILTERS if kind == "units" else search.ENTRY_FILTERS
    filters = data.get("filters")
    filters = {} if filters is None else filters
    if not isinstance(filters, dict):
        problems.append(_problem("filters", "invalid_type", "筛选条件格式不正确"))
        filters = {}
    for name, value in filters.items():
        integer = name in search.INTEGER_FILTERS
        if name not in allowed or not (is_row_id(value) if integer else isinstance(value, str)):
            problems.append(_problem(f"filters.{name}", "invalid_choice", "筛选条件不正确"))
    q = data.get("q")
    q = "" if q is None else q
    if not isinstance(q, str):
        problems.append(_problem("q", "invalid_type", "搜索词格式不正确"))
        q = ""
    params = {"kind": kind, "filters": filters, "q": search.clean_query(q)}
    if kind == "entry_pdf":
        entry = data.get("entry")
        found = is_row_id(entry) and Entry.get_or_none(
            (Entry.id == entry) & (Entry.campaign == campaign)
        )
        if not found:
            problems.append(_problem("entry", "not_found", "案例不存在"))
        params = {"kind": kind, "entry": entry}
    if problems:
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", problems)
    return params


def _problem(field: str, code: str, message: str) -> dict:
    return {"field": field, "code": code, "message": message}


def _export(export_id: int) -> ExportJob:
    job = ExportJob.get_or_none(
        (ExportJob.id == export_id) & (ExportJob.campaign == open_campaign())
    )
    if job is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return job


def export_payload(job: ExportJob) -> dict:
    timezone = job.campaign.timezone
    return {
        "id": job.id,
        "kind": job.kind,
        "params": job.params,
        "pii": job.pii,
        "status": job.status,
        "done": job.done,
        "total": job.total,
        "size": job.size,
        "error": job.error,
        "created_at": iso_local(job.created_at, timezone),
        "finished_at": iso_local(job.finished_at, timezone),
        "url": f"/api/v1/org/exports/{job.id}/file" if job.status == "ready" else None,
    }
