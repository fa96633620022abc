"""Organizer page over departments and their channels: funnel numbers, code downloads and
the kit of every department's codes, with its progress (`campaign.channels.funnel_views`)."""

from flask import Blueprint, request

from api.errors import ApiError
from api.org import kits as kit_api
from api.org.channels import code_file
from campaign import department_accounts
from campaign.accounts import MIN_PASSWORD
from campaign.channels import assets as codes
from campaign.channels.funnel_views import channel_rows, department_rows
from models import Account, Channel, Department, KitArchive
from pages.console.layout import actor, campaign_or_404, page_for, render
from tasks.qrcodes import request_kit

bp = Blueprint("departments", __name__)
PAGE_SIZE = 20


@bp.get("/departments")
@page_for("organizer")
def index():
    campaign = campaign_or_404()
    rows = department_rows(campaign, sort="submitted")
    pages = max((len(rows) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    channels = channel_rows(campaign)
    public = [c for c in channels if c["channel"].get("department_id") is None]
    kit = KitArchive.select().where(
        (KitArchive.campaign == campaign) & KitArchive.department.is_null()
    ).order_by(KitArchive.id.desc()).first()  # fmt: skip
    return render(
        "console/departments.html",
        pager={
            "rows": rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
            "total": len(rows),
            "page": page,
            "pages": pages,
        },
        channels=channels,
        public=public,
        assets=codes.assets_of([c["channel"]["id"] for c in channels]),
        kinds=codes.KINDS,
        kit=kit,
        all_departments=Department.select()
        .where((Department.campaign == campaign) & Department.active)
        .order_by(Department.name),
    )


@bp.post("/departments/accounts")
@page_for("organizer")
def issue_account():
    """The password fallback for a department whose members cannot scan the login QR."""
    form = request.form
    department = Department.get_or_none(
        (Department.id == form.get("department", type=int))
        & (Department.campaign == campaign_or_404())
    )
    username = form.get("username", "").strip()[:64]
    problems = []
    if department is None:
        problems.append({"field": "department", "code": "not_found", "message": "请选择推荐单位"})
    if not username:
        problems.append({"field": "username", "code": "required", "message": "请填写用户名"})
    elif Account.get_or_none(Account.username == username):
        problems.append({"field": "username", "code": "taken", "message": "用户名已被使用"})
    if len(form.get("password", "")) < MIN_PASSWORD:
        problems.append(
            {"field": "password", "code": "too_short", "message": f"密码至少 {MIN_PASSWORD} 位"}
        )
    if problems:
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", problems)
    account = department_accounts.issue(department, username, form["password"], actor())
    return render("console/departments.html", "issued", issued=account, department=department)


@bp.get("/channels/<int:channel_id>/codes/<kind>")
@page_for("organizer")
def code(channel_id: int, kind: str):
    channel = Channel.get_or_none(
        (Channel.id == channel_id) & (Channel.campaign == campaign_or_404())
    )
    if channel is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return code_file(channel, kind)


@bp.post("/kits")
@page_for("organizer")
def kit_request():
    archive = request_kit(campaign_or_404().id, None, actor())
    return render("console/departments.html", "kit", kit=archive)


@bp.get("/kits/<int:kit_id>")
@page_for("organizer")
def kit(kit_id: int):
    return render("console/departments.html", "kit", kit=_kit(kit_id))


@bp.get("/kits/<int:kit_id>/file")
@page_for("organizer")
def kit_file(kit_id: int):
    archive = _kit(kit_id)
    return kit_api.kit_file(archive)


def _kit(kit_id: int) -> KitArchive:
    archive = KitArchive.get_or_none(
        (KitArchive.id == kit_id) & (KitArchive.campaign == campaign_or_404())
    )
    if archive is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return archive
