"""Department users: bind with an invite code, see and endorse their own entries."""

from flask import Blueprint, jsonify

from api.errors import ApiError
from api.org.funnels import fresh
from api.payload import json_object, optional_object, required_string
from api.security import current_user, login_required
from api.unit.entries import entry_payload, list_filters, list_payload
from campaign.channels import recommending as rules
from campaign.channels.funnel_views import department_view
from campaign.entries import search, status
from campaign.notices import status_messages as status_notices
from models import Entry
from tasks.notices import start as start_notice

bp = Blueprint("departments_api", __name__, url_prefix="/api/v1/dept")
DEPARTMENT_FILTERS = tuple(name for name in search.ENTRY_FILTERS if name != "department")


@bp.post("/bind")
@login_required
def bind():
    code = required_string(json_object(), "invite_code", max_length=32)
    try:
        department = rules.bind(current_user(), code)
    except rules.InviteSpent:
        raise ApiError(
            410, "invite_expired", "邀请码已过期或已用完，请联系组织者获取新的邀请码"
        ) from None
    except rules.BindingRefused:
        raise ApiError(404, "invalid_invite_code", "邀请码无效或已停用") from None
    return jsonify(department_payload(department))


@bp.get("/me")
@login_required
def my_departments():
    return jsonify(items=[department_payload(d) for d in _departments()])


@bp.get("/funnel")
@login_required
def funnel():
    """Each of the caller's departments: its funnel, its channels' funnels, and by day."""
    views = [department_view(d) for d in _departments()]
    return jsonify(items=views, pending_touches=fresh())


@bp.get("/entries")
@login_required
def list_entries():
    """The departments' entries, filtered by search.ENTRY_FILTERS and searched with `q`."""
    filters, text = list_filters(DEPARTMENT_FILTERS)
    entries = []
    for department in _departments():
        found = rules.visible_entries(department)
        if filters or text:
            matching = search.entries(department.campaign, filters, text).select(Entry.id)
            found = found.where(Entry.id.in_(matching))
        entries += [list_payload(e) for e in found.order_by(Entry.id)]
    return jsonify(items=entries)


@bp.post("/entries/<int:entry_id>/endorse")
@login_required
def endorse(entry_id: int):
    """推荐; the body (`{"comment": …}`) is optional: no body, `{}` or `null` all endorse."""
    data = optional_object()
    comment = data.get("comment", "") if isinstance(data.get("comment"), str) else ""
    return _decide(entry_id, rules.endorse, comment[:1000])


@bp.post("/entries/<int:entry_id>/return")
@login_required
def send_back(entry_id: int):
    comment = required_string(json_object(), "comment", max_length=1000)
    return _decide(entry_id, rules.send_back, comment)


def _decide(entry_id: int, action, comment: str):
    entry = _visible_entry(entry_id)
    try:
        entry = action(entry, f"user:{current_user().id}", comment)
    except status.IllegalTransition as illegal:
        raise ApiError(409, "not_pending", "该案例当前状态不能进行此操作") from illegal
    notice_id = status_notices.notify(entry)
    if notice_id is not None:
        start_notice(notice_id)
    return jsonify(entry_payload(entry))


def _departments():
    departments = rules.departments_of(current_user())
    if not departments:
        raise ApiError(403, "not_department_user", "您还不是推荐单位的用户，请先使用邀请码绑定")
    return departments


def _visible_entry(entry_id: int) -> Entry:
    for department in _departments():
        entry = rules.visible_entries(department).where(Entry.id == entry_id).first()
        if entry is not None:
            return entry
    raise ApiError(404, "not_found", "请求的内容不存在")


def department_payload(department) -> dict:
    return {"id": department.id, "name": department.name, "route": department.route}
