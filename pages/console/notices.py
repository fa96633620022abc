"""Notices in the console: the list, the composer with its audience count, sending now or
at a time, and the live progress with the final report by reason. The rules are
`campaign.notices.operations`, `campaign.notices.preview` and `campaign.notices.outbox`, as
for the API."""

from flask import Blueprint, redirect, request, url_for

from api.errors import ApiError
from campaign.definition import options
from campaign.notices import operations as rules
from campaign.notices import outbox
from campaign.notices import preview as notice_preview
from models import Department, MessageTemplate, Notice, utcnow
from pages.console.layout import actor, campaign_or_404, page_for, paginate, render
from tasks import notices as jobs

bp = Blueprint("notices", __name__)

UNIT_STATUS_LABELS = {
    "no_unit": "未登记单位",
    "no_entry": "已登记未创建案例",
    "draft_only": "仅有草稿",
    "submitted": "已提交",
    "returned": "被退回",
    "mailin_pending": "待寄送纸质材料",
}
GROUP_LABELS = {"units": "申报单位", "department_users": "推荐单位用户"}
LIVE_STATES = (rules.SCHEDULED, rules.PREPARING, rules.SENDING)


@bp.get("/notices")
@page_for("organizer")
def index():
    query = Notice.select().where(Notice.campaign == campaign_or_404()).order_by(Notice.id.desc())
    return render("console/notices.html", pager=paginate(query))


@bp.get("/notices/new")
@page_for("organizer")
def new():
    return _composer(form={}, template=None)


@bp.get("/notices/fields")
@page_for("organizer")
def fields():
    """The value inputs of the chosen template (htmx swaps them in on change)."""
    template = _template(request.args.get("template", type=int))
    return render("console/notice_new.html", "fields", template=template, form={})


@bp.post("/notices/preview")
@page_for("organizer")
def preview():
    result, problems = notice_preview.preview(campaign_or_404(), _notice_data())
    if problems:
        raise ApiError(422, "validation_failed", "提交的内容未通过校验", problems)
    return render("console/notice_new.html", "preview", result=result)


@bp.post("/notices")
@page_for("organizer")
def create():
    notice = rules.create_notice(campaign_or_404(), _notice_data(), actor())
    return _to(notice)


@bp.get("/notices/<int:notice_id>")
@page_for("organizer")
def show(notice_id: int):
    notice = _notice(notice_id)
    return render(
        "console/notice.html",
        "progress",
        notice=notice,
        progress=outbox.progress(notice.id),
        live=notice.state in LIVE_STATES,
    )


@bp.post("/notices/<int:notice_id>/send")
@page_for("organizer")
def send(notice_id: int):
    """Now, or at a campaign-local time (`at`, from a datetime-local input)."""
    notice = _notice(notice_id)
    when = {"at": request.form["at"]} if request.form.get("when") == "at" else {}
    send_at = rules.send_time(notice.campaign, when, utcnow())
    notice = rules.schedule(notice, send_at, actor())
    if notice.send_at <= utcnow():
        jobs.start(notice.id)
    return _to(notice)


@bp.post("/notices/<int:notice_id>/<any(pause, resume, cancel):action>")
@page_for("organizer")
def transition(notice_id: int, action: str):
    try:
        getattr(rules, action)(_notice(notice_id), actor())
    except rules.NoticeStateError as refused:
        raise ApiError(409, refused.code, "通知当前状态不能进行此操作") from None
    if action == "resume":
        jobs.dispatch(notice_id)
    return _to(_notice(notice_id))


def _to(notice: Notice):
    """To the notice's page: a redirect, or for htmx an `HX-Redirect` (a 303 would be
    followed inside the XHR and its page swapped into the form)."""
    location = url_for("console.notices.show", notice_id=notice.id)
    if request.headers.get("HX-Request"):
        return "", 204, {"HX-Redirect": location}
    return redirect(location, 303)


def _composer(form: dict, template):
    campaign = campaign_or_404()
    return render(
        "console/notice_new.html",
        form=form,
        template=template,
        templates=MessageTemplate.select().where(MessageTemplate.campaign == campaign),
        groups=GROUP_LABELS,
        unit_statuses=UNIT_STATUS_LABELS,
        routes=options(campaign, "route"),
        departments=Department.select().where(Department.campaign == campaign),
        regions=campaign.regions or [],
    )


def _notice_data() -> dict:
    """The composer's form as the notice rules' input (the API's JSON shape)."""
    form = request.form
    group = form.get("group", "units")
    audience: dict = {"group": group}
    for name in ("status", "route", "region"):
        if form.getlist(name):
            audience[name] = form.getlist(name)
    departments = [int(v) for v in form.getlist("department") if v.isdigit()]
    if departments:
        audience["department"] = departments
    template = form.get("template", "")
    return {
        "title": form.get("title", ""),
        "template": int(template) if template.isdigit() else None,
        "values": {
            key[len("value.") :]: value
            for key, value in form.items()
            if key.startswith("value.") and value.strip()
        },
        "audience": audience,
    }


def _template(template_id) -> MessageTemplate | None:
    return MessageTemplate.get_or_none(
        (MessageTemplate.id == (template_id or 0)) & (MessageTemplate.campaign == campaign_or_404())
    )


def _notice(notice_id: int) -> Notice:
    notice = Notice.get_or_none((Notice.id == notice_id) & (Notice.campaign == campaign_or_404()))
    if notice is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return notice
