"""A department member's pages: their funnel and charts, their codes and kit, their
entries with endorse and return (a reason required), the changes a unit made after a
return, and their own export. Visibility and moves are `campaign.channels.recommending`' rules."""

import io
import operator
from functools import reduce

from flask import Blueprint, request

from api.errors import ApiError
from api.files import document
from api.org import kits as kit_api
from api.org.channels import code_file
from campaign.channels import assets as codes
from campaign.channels import recommending as rules
from campaign.channels.funnel_views import department_view
from campaign.channels.funnels import STEPS
from campaign.department_accounts import member_departments
from campaign.entries import status
from campaign.entries.operations import TEXT_FIELDS
from models import Channel, Entry, EntryRevision, KitArchive, StatusChange
from pages.console.changes import field_changes
from pages.console.layout import account, actor, page_for, paginate, render
from tasks.qrcodes import request_kit

bp = Blueprint("dept", __name__, url_prefix="/dept")


def _departments():
    return member_departments(account())


@bp.get("/")
@page_for("department")
def home():
    views = []
    for department in _departments():
        view = department_view(department)
        labels = dict(STEPS)
        view["chart"] = {
            "days": [d["day"] for d in view["daily"]],
            "series": [
                {"name": labels[s], "values": [d[s] for d in view["daily"]]}
                for s in ("scans", "units", "submitted")
            ],
        }
        view["kit"] = (
            KitArchive.select()
            .where(KitArchive.department == department)
            .order_by(KitArchive.id.desc())
            .first()
        )
        view["assets"] = codes.assets_of([c["channel"]["id"] for c in view["channels"]])
        views.append(view)
    return render("console/dept.html", views=views, kinds=codes.KINDS)


@bp.get("/codes/<int:channel_id>/<kind>")
@page_for("department")
def code(channel_id: int, kind: str):
    channel = Channel.get_or_none(
        (Channel.id == channel_id) & Channel.department.in_([d.id for d in _departments()])
    )
    if channel is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return code_file(channel, kind)


@bp.post("/kits")
@page_for("department")
def kit_request():
    department = _own_department(request.form.get("department", type=int))
    archive = request_kit(department.campaign_id, department.id, actor())
    return render("console/dept.html", "kit", kit=archive, department=department)


@bp.get("/kits/<int:kit_id>")
@page_for("department")
def kit(kit_id: int):
    archive = _own_kit(kit_id)
    return render("console/dept.html", "kit", kit=archive, department=archive.department)


@bp.get("/kits/<int:kit_id>/file")
@page_for("department")
def kit_file(kit_id: int):
    archive = _own_kit(kit_id)
    return kit_api.kit_file(archive)


@bp.get("/entries")
@page_for("department")
def entries():
    query = _visible().order_by(Entry.submitted_at.desc(nulls="last"), Entry.id.desc())
    pager = paginate(query)
    changed = {e.id: changes_since_return(e) for e in pager["rows"]}
    return render("console/dept_entries.html", pager=pager, changed=changed)


@bp.post("/entries/<int:entry_id>/endorse")
@page_for("department")
def endorse(entry_id: int):
    return _decide(entry_id, rules.endorse, request.form.get("comment", "")[:1000])


@bp.post("/entries/<int:entry_id>/return")
@page_for("department")
def send_back(entry_id: int):
    reason = request.form.get("comment", "").strip()[:1000]
    if not reason:
        raise ApiError(
            422,
            "validation_failed",
            "退回时请填写退回原因",
            [{"field": "comment", "code": "required", "message": "请填写退回原因"}],
        )
    return _decide(entry_id, rules.send_back, reason)


@bp.get("/export")
@page_for("department")
def export():
    """Their entries as a workbook: what the department may see, nothing more."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("推荐案例")
    sheet.append(["编号", "标题", "申报单位", "推荐单位", "状态", "提交时间"])
    for e in _visible().order_by(Entry.id):
        submitted = e.submitted_at.isoformat(sep=" ", timespec="minutes") if e.submitted_at else ""
        sheet.append(
            [e.id, e.title, e.unit.name, e.department.name, status.LABELS[e.status], submitted]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return document(buffer.getvalue(), "推荐案例.xlsx", "entries.xlsx")


def changes_since_return(entry: Entry) -> list[dict]:
    """What the unit changed after the department last returned the entry: per text field,
    the before/after pieces (`same`, `del`, `ins`), for the member's second reading."""
    returned = (
        StatusChange.select()
        .where((StatusChange.entry == entry) & (StatusChange.to_status == status.RETURNED))
        .order_by(StatusChange.id.desc())
        .first()
    )
    if returned is None:
        return []
    before = (
        EntryRevision.select()
        .where((EntryRevision.entry == entry) & (EntryRevision.saved_at <= returned.at))
        .order_by(EntryRevision.id.desc())
        .first()
    )
    if before is None:
        return []
    return field_changes(before.data, {name: getattr(entry, name) for name in TEXT_FIELDS})


def _visible():
    """Entries of any of the member's departments that the department rules let it see."""
    parts = [rules.visible_entries(d).select(Entry.id) for d in _departments()]
    return Entry.select().where(Entry.id.in_(reduce(operator.or_, parts)))


def _decide(entry_id: int, action, comment: str):
    entry = _visible().where(Entry.id == entry_id).first()
    if entry is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    try:
        entry = action(entry, actor(), comment)
    except status.IllegalTransition:
        raise ApiError(409, "not_pending", "该案例当前状态不能进行此操作") from None
    return render("console/dept_entries.html", "row", e=entry, changed={})


def _own_department(department_id):
    for department in _departments():
        if department.id == department_id:
            return department
    raise ApiError(404, "not_found", "请求的内容不存在")


def _own_kit(kit_id: int) -> KitArchive:
    ids = [d.id for d in _departments()]
    archive = KitArchive.get_or_none((KitArchive.id == kit_id) & KitArchive.department.in_(ids))
    if archive is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return archive
