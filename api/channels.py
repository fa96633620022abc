"""Organizer endpoints for departments, channels, QR codes, kits and reassignment (DESIGN §5.1, §6).

Everything is scoped to the current campaign and needs an organizer (or admin) console
account. Codes are never drawn here: creating a channel enqueues the jobs that draw and fetch
them (`tasks.qrcodes`), and their files are served from storage. Funnels are in
`api.channel_funnels`, nested under the same prefix.
"""

from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, request, send_file
from peewee import fn

from api import channel_funnels
from api.access import open_campaign
from api.errors import ApiError
from api.payload import json_object
from api.security import console_actor, role_required
from campaign import channel_codes as codes
from campaign import department_imports as imports
from campaign import departments_admin as admin
from campaign.clock import iso_local
from campaign.names import clean_name
from campaign.problems import is_row_id
from campaign.reassign import ReassignRefused, reassign, target
from models import (
    Attribution,
    Campaign,
    Channel,
    Department,
    DepartmentMember,
    KitArchive,
    WechatUser,
)
from storage import StorageError, get_storage
from tasks.qrcodes import enqueue_codes, request_kit
from tasks.scans import sync_codes

bp = Blueprint("channels_api", __name__, url_prefix="/api/v1/org")
bp.register_blueprint(channel_funnels.bp)

INVALID = "提交的内容未通过校验"


# --- departments -----------------------------------------------------------------------------


@bp.get("/departments")
@role_required("organizer")
def list_departments():
    campaign = open_campaign()
    query = Department.select().where(Department.campaign == campaign)
    if request.args.get("route"):
        query = query.where(Department.route == request.args["route"])
    if request.args.get("q"):
        query = query.where(Department.name.contains(request.args["q"][:50]))
    departments = list(query.order_by(Department.route, Department.name))
    channels = _count_by(Channel, Channel.department, [d.id for d in departments])
    members = _count_by(DepartmentMember, DepartmentMember.department, [d.id for d in departments])
    items = [
        {
            **department_payload(d),
            "channels": channels.get(d.id, 0),
            "members": members.get(d.id, 0),
        }
        for d in departments
    ]
    return jsonify(items=items)


@bp.post("/departments")
@role_required("organizer")
def create_department():
    campaign = open_campaign()
    data = json_object()
    values, problems = admin.check_fields(campaign, data)
    problems += admin.check_parent(campaign, data.get("parent_id"), None)
    if values.get("name") and admin.name_taken(campaign, values["name"]):
        problems.append(admin.problem("name", "name_taken", value=values["name"]))
    _refuse(problems)
    department, channel = admin.create_department(
        campaign, values, console_actor(), parent_id=data.get("parent_id")
    )
    enqueue_codes([channel.id])
    sync_codes([channel.code])
    return jsonify(department_detail(department)), 201


@bp.get("/departments/<int:department_id>")
@role_required("organizer")
def show_department(department_id: int):
    return jsonify(department_detail(_department(department_id)))


@bp.patch("/departments/<int:department_id>")
@role_required("organizer")
def update_department(department_id: int):
    campaign = open_campaign()
    department = _department(department_id)
    data = json_object()
    values, problems = admin.check_fields(campaign, data, partial=True)
    if "parent_id" in data:
        problems += admin.check_parent(campaign, data["parent_id"], department)
        values["parent_id"] = data["parent_id"]
    if "active" in data:
        values["active"] = _boolean(data, "active", problems)
    if values.get("name") and admin.name_taken(campaign, values["name"], department.id):
        problems.append(admin.problem("name", "name_taken", value=values["name"]))
    _refuse(problems)
    try:
        department = admin.update_department(department, values, console_actor())
    except admin.RouteLocked:
        raise ApiError(
            409, "route_locked", "已有用户通过该单位进入，不能再修改征集方式；请新建推荐单位"
        ) from None
    channels = list(Channel.select().where(Channel.department == department))
    sync_codes([c.code for c in channels])
    if "name" in values:  # posters carry the name
        enqueue_codes([c.id for c in channels], force=True)
    return jsonify(department_detail(department))


@bp.post("/departments/<int:department_id>/invite")
@role_required("organizer")
def rotate_invite(department_id: int):
    """A new code; an optional JSON body may revoke members, set an expiry and a use limit."""
    from api.department_access import invite_options

    options = invite_options(json_object()) if request.content_length else {}
    department = admin.rotate_invite(_department(department_id), console_actor(), **options)
    return jsonify(department_detail(department))


@bp.post("/departments/import")
@role_required("organizer")
def import_departments():
    """A sheet of departments: all rows imported, or none and every problem listed."""
    campaign = open_campaign()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(422, "file_required", "请上传 .xlsx 或 .csv 文件", [_required("file")])
    try:
        rows = imports.read_sheet(upload.filename, upload.read())
    except imports.SheetRefused as refused:
        status = {"unsupported_file_type": 415, "too_many_rows": 413}.get(refused.code, 422)
        raise ApiError(status, refused.code, refused.message, refused.fields) from None
    plan = imports.plan_import(campaign, rows)
    if plan.problems:
        message = f"表格中有 {len(plan.problems)} 处问题，未导入任何推荐单位，请修改后重新上传"
        raise ApiError(422, "import_failed", message, plan.problems)
    if request.args.get("dry_run") in ("1", "true"):
        return jsonify(dry_run=True, would_create=len(plan.rows), skipped=plan.skipped)
    try:
        created = imports.apply_import(campaign, plan, console_actor())
    except imports.ImportConflict:
        raise ApiError(409, "import_conflict", "导入期间推荐单位有变动，请重新上传") from None
    enqueue_codes([channel.id for _, channel in created])
    sync_codes([channel.code for _, channel in created])
    items = [department_payload(department) for department, _ in created]
    return jsonify(created=len(created), skipped=plan.skipped, items=items), 201


@bp.get("/departments/import-template")
@role_required("organizer")
def import_template():
    content = imports.template_workbook(open_campaign())
    return Response(
        content,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": _disposition("推荐单位导入模板.xlsx", "departments.xlsx")},
    )


# --- channels --------------------------------------------------------------------------------


@bp.get("/channels")
@role_required("organizer")
def list_channels():
    campaign = open_campaign()
    query = Channel.select().where(Channel.campaign == campaign)
    if channel_funnels.query_id("department_id") is not None:
        query = query.where(Channel.department == channel_funnels.query_id("department_id"))
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
    label = _string(data, "label", problems, required=True)
    department = None
    if data.get("department_id") is not None:
        department = _department_or_problem(campaign, data["department_id"], problems)
    _refuse(problems)
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
        values["label"] = _string(data, "label", problems, required=True)
    if "active" in data:
        values["active"] = _boolean(data, "active", problems)
    _refuse(problems)
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
    data = _optional_object()
    problems = []
    force = _boolean(data, "force", problems) if "force" in data else False
    _refuse(problems)
    enqueue_codes([channel.id], force=force)
    return jsonify(channel_payload(channel, codes.assets_of([channel.id])[channel.id])), 202


@bp.get("/channels/<int:channel_id>/codes/<kind>")
@role_required("organizer")
def download_code(channel_id: int, kind: str):
    channel = _channel(channel_id)
    if kind not in codes.KINDS:
        raise ApiError(404, "not_found", "请求的内容不存在")
    asset = codes.assets_of([channel.id])[channel.id].get(kind)
    if asset is None or asset.status != codes.READY:
        status = asset.status if asset else codes.PENDING
        message = (asset.error if asset and asset.error else None) or "该码正在生成，请稍后再试"
        raise ApiError(409, "code_not_ready", message, [{"field": kind, "code": status}])
    name = f"{channel.label or channel.code}-{codes.KINDS[kind].file_name}"
    extension = asset.storage_key.rsplit(".", 1)[-1]
    return stored_file(asset.storage_key, name.rsplit(".", 1)[0] + "." + extension)


@bp.get("/mp-qr-quota")
@role_required("organizer")
def mp_qr_quota():
    return jsonify(codes.mp_qr_usage())


# --- kits ------------------------------------------------------------------------------------


@bp.post("/kits")
@role_required("organizer")
def create_kit():
    """A ZIP of one department's kit, or of every department's (no `department_id`)."""
    campaign = open_campaign()
    data = _optional_object()
    problems = []
    department = None
    if data.get("department_id") is not None:
        department = _department_or_problem(campaign, data["department_id"], problems)
    _refuse(problems)
    archive = request_kit(campaign.id, department.id if department else None, console_actor())
    return jsonify(kit_payload(archive)), 202


@bp.get("/kits/<int:kit_id>")
@role_required("organizer")
def show_kit(kit_id: int):
    return jsonify(kit_payload(_kit(kit_id)))


@bp.get("/kits/<int:kit_id>/file")
@role_required("organizer")
def download_kit(kit_id: int):
    archive = _kit(kit_id)
    if archive.status != "ready" or not archive.storage_key:
        raise ApiError(409, "kit_not_ready", archive.error or "推广码压缩包正在生成，请稍后再试")
    name = (
        f"推广码-{archive.department.name}.zip"
        if archive.department_id
        else "推广码-全部推荐单位.zip"
    )
    return stored_file(archive.storage_key, name)


# --- reassignment ----------------------------------------------------------------------------


@bp.get("/users/<int:user_id>/attribution")
@role_required("organizer")
def show_attribution(user_id: int):
    campaign = open_campaign()
    user = _user(user_id)
    row = Attribution.get_or_none((Attribution.campaign == campaign) & (Attribution.user == user))
    return jsonify(attribution_payload(user, row, campaign))


@bp.put("/users/<int:user_id>/attribution")
@role_required("organizer")
def reassign_attribution(user_id: int):
    """Move a person (and their entries not yet judged) to another department or route."""
    campaign = open_campaign()
    user = _user(user_id)
    data = json_object()
    problems = []
    reason = _string(data, "reason", problems, required=True)
    route = data.get("route")
    if route is not None and not isinstance(route, str):
        problems.append(admin.problem("route", "invalid_type"))
    department_id = data.get("department_id")
    if department_id is not None and not is_row_id(department_id):
        problems.append(admin.problem("department_id", "invalid_type"))
    _refuse(problems)
    try:
        route, department = target(campaign, department_id, route)
    except ReassignRefused as refused:
        raise ApiError(422, refused.code, refused.message) from None
    return jsonify(reassign(campaign, user, route, department, console_actor(), reason))


# --- payloads --------------------------------------------------------------------------------


def department_payload(department: Department) -> dict:
    base_url = current_app.config["SETTINGS"].public_base_url
    return {
        "id": department.id,
        "name": department.name,
        "route": department.route,
        "region": department.region,
        "parent_id": department.parent_id,
        "contact_name": department.contact_name,
        "contact_phone": department.contact_phone,
        "invite_code": department.invite_code,
        "invite_url": codes.invite_url(base_url, department.invite_code),
        "invite_expires_at": department.invite_expires_at
        and iso_local(department.invite_expires_at, department.campaign.timezone),
        "invite_max_uses": department.invite_max_uses,
        "invite_uses": department.invite_uses,
        "active": department.active,
    }


def department_detail(department: Department) -> dict:
    channels = list(Channel.select().where(Channel.department == department).order_by(Channel.id))
    assets = codes.assets_of([c.id for c in channels])
    members = (
        WechatUser.select(WechatUser, DepartmentMember.bound_at)
        .join(DepartmentMember)
        .where(DepartmentMember.department == department)
        .order_by(DepartmentMember.bound_at)
    )
    timezone = department.campaign.timezone
    return {
        **department_payload(department),
        "channels": [channel_payload(c, assets[c.id]) for c in channels],
        "members": [
            {
                "user_id": m.id,
                "nickname": m.nickname,
                "bound_at": iso_local(m.departmentmember.bound_at, timezone),
            }
            for m in members
        ],
    }


def channel_payload(channel: Channel, assets: dict) -> dict:
    base_url = current_app.config["SETTINGS"].public_base_url
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


def attribution_payload(user: WechatUser, row: Attribution | None, campaign: Campaign) -> dict:
    return {
        "user_id": user.id,
        "route": row.route if row else None,
        "department_id": row.department_id if row else None,
        "channel_id": row.channel_id if row else None,
        "reassigned_by": row.reassigned_by if row else None,
        "since": iso_local(row.created_at, campaign.timezone) if row else None,
    }


# --- helpers ---------------------------------------------------------------------------------


def stored_file(key: str, name: str):
    """A stored file as a download: nginx sends it in production, Flask in development."""
    mime = codes.mime_of(key)
    disposition = _disposition(name, "download." + key.rsplit(".", 1)[-1])
    if current_app.config["SETTINGS"].production:
        response = Response(mimetype=mime, headers={"Content-Disposition": disposition})
        response.headers["X-Accel-Redirect"] = "/_protected/" + quote(key)
        return response
    try:
        stream = get_storage().open(key)
    except StorageError:
        raise ApiError(404, "file_missing", "文件不存在或已被删除") from None
    response = send_file(stream, mimetype=mime)
    response.headers["Content-Disposition"] = disposition
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"  # SVGs, too
    return response


def _disposition(name: str, fallback: str) -> str:
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _department(department_id: int) -> Department:
    department = Department.get_or_none(
        (Department.id == department_id) & (Department.campaign == open_campaign())
    )
    if department is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return department


def _department_or_problem(campaign: Campaign, value, problems: list) -> Department | None:
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
    channel = Channel.get_or_none(
        (Channel.id == channel_id) & (Channel.campaign == open_campaign())
    )
    if channel is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return channel


def _kit(kit_id: int) -> KitArchive:
    archive = KitArchive.get_or_none(
        (KitArchive.id == kit_id) & (KitArchive.campaign == open_campaign())
    )
    if archive is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return archive


def _user(user_id: int) -> WechatUser:
    user = WechatUser.get_or_none(WechatUser.id == user_id)
    if user is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return user


def _string(data: dict, field: str, problems: list, required: bool = False) -> str:
    value = data.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not clean_name(value)):
        problems.append(_required(field) if not value else admin.problem(field, "invalid_type"))
        return ""
    value = clean_name(value)
    limit = admin.MAX_LENGTH.get(field, 500)
    if len(value) > limit:
        problems.append(admin.problem(field, "too_long", max=limit))
    return value


def _boolean(data: dict, field: str, problems: list) -> bool:
    if not isinstance(data.get(field), bool):
        problems.append(admin.problem(field, "invalid_type"))
        return False
    return data[field]


def _optional_object() -> dict:
    """The JSON object of a request whose body may be empty; 400 for anything else."""
    if not request.get_data(cache=True):
        return {}
    return json_object()


def _required(field: str) -> dict:
    return admin.problem(field, "required")


def _refuse(problems: list) -> None:
    if problems:
        raise ApiError(422, "validation_failed", INVALID, problems)


def _count_by(model, column, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = model.select(column, fn.COUNT(model.id)).where(column.in_(ids)).group_by(column)
    return dict(rows.tuples())
