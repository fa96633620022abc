"""Organizer endpoints for recommending departments: list, create, change, invite, import.

Scoped to the current campaign; organizers (or admins) only. Creating a department creates
its first channel, whose codes jobs draw (`tasks.qrcodes`).
"""

from flask import Blueprint, jsonify, request
from peewee import fn

from api.access import campaign_row, open_campaign
from api.files import document
from api.org.channels import channel_payload
from api.org.department_access import invite_options
from api.payload import boolean_field, json_object, required_problem
from api.security import console_actor, role_required
from campaign.channels import assets as codes
from campaign.channels import departments as admin
from campaign.channels import imports
from campaign.clock import iso_local
from campaign.problems import Invalid, refuse_if
from config import current_settings
from models import Channel, Department, DepartmentMember, WechatUser
from pages.scan_buffer import sync_codes
from tasks.qrcodes import enqueue_codes

bp = Blueprint("org_departments_api", __name__, url_prefix="/api/v1/org")


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
    refuse_if(problems)
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
        values["active"] = boolean_field(data, "active", problems)
    if values.get("name") and admin.name_taken(campaign, values["name"], department.id):
        problems.append(admin.problem("name", "name_taken", value=values["name"]))
    refuse_if(problems)
    department = admin.update_department(department, values, console_actor())
    channels = list(Channel.select().where(Channel.department == department))
    sync_codes([c.code for c in channels])
    if "name" in values:  # posters carry the name
        enqueue_codes([c.id for c in channels], force=True)
    return jsonify(department_detail(department))


@bp.post("/departments/<int:department_id>/invite")
@role_required("organizer")
def rotate_invite(department_id: int):
    """A new code; an optional JSON body may revoke members, set an expiry and a use limit."""
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
        raise Invalid([required_problem("file")], "请上传 .xlsx 或 .csv 文件", "file_required")
    rows = imports.read_sheet(upload.filename, upload.read())
    plan = imports.plan_import(campaign, rows)
    if plan.problems:
        message = f"表格中有 {len(plan.problems)} 处问题，未导入任何推荐单位，请修改后重新上传"
        raise Invalid(plan.problems, message, "import_failed")
    if request.args.get("dry_run") in ("1", "true"):
        return jsonify(dry_run=True, would_create=len(plan.rows), skipped=plan.skipped)
    created = imports.apply_import(campaign, plan, console_actor())
    enqueue_codes([channel.id for _, channel in created])
    sync_codes([channel.code for _, channel in created])
    items = [department_payload(department) for department, _ in created]
    return jsonify(created=len(created), skipped=plan.skipped, items=items), 201


@bp.get("/departments/import-template")
@role_required("organizer")
def import_template():
    content = imports.template_workbook(open_campaign())
    return document(content, "推荐单位导入模板.xlsx", "departments.xlsx")


def department_payload(department: Department) -> dict:
    base_url = current_settings().public_base_url
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


def _department(department_id: int) -> Department:
    return campaign_row(Department, department_id)


def _count_by(model, column, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = model.select(column, fn.COUNT(model.id)).where(column.in_(ids)).group_by(column)
    return dict(rows.tuples())
