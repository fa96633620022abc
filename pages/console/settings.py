"""Campaign settings: the campaign as configured (dates in Beijing time, limits, stage),
and the automatic reminders, changed through `campaign.notices.reminders.configure` like the API."""

from flask import Blueprint, request

from campaign.notices import reminders
from pages.console.layout import actor, campaign_or_404, page_for, render

bp = Blueprint("settings", __name__)

KIND_LABELS = {
    "deadline": "征集截止提醒（发给未提交的单位）",
    "endorsement": "待推荐提醒（发给推荐单位）",
    "review": "评审提醒（发给专家）",
    "mailin": "材料寄送提醒（发给获奖单位）",
    "exchange_invite": "交流活动邀请（发给获奖单位）",
    "exchange_eve": "交流活动前一天提醒（发给已报名的参会人）",
}


@bp.get("/settings")
@page_for("organizer")
def index():
    return _page()


@bp.post("/settings/reminders")
@page_for("organizer")
def save_reminders():
    reminders.configure(campaign_or_404(), _reminders_form(), actor())
    return _page("reminders", saved=True)


def _reminders_form() -> dict:
    """The form as `configure`'s input: any field left unparseable is passed through as
    text, so the rule reports it with its own message."""
    form, data = request.form, {}
    for kind, defaults in reminders.DEFAULTS.items():
        if f"{kind}.at" not in form:  # a kind this page does not show keeps its settings
            continue
        values = {"enabled": form.get(f"{kind}.enabled") == "on", "at": form.get(f"{kind}.at", "")}
        if "days_before" in defaults:
            raw = form.get(f"{kind}.days_before", "").replace("，", ",")
            parts = [p.strip() for p in raw.split(",") if p.strip()]
            values["days_before"] = [int(p) if p.isdigit() else p for p in parts]
        if "every_days" in defaults:
            raw = form.get(f"{kind}.every_days", "").strip()
            values["every_days"] = int(raw) if raw.isdigit() else raw
        data[kind] = values
    return data


def _page(block: str | None = None, saved: bool = False):
    campaign = campaign_or_404()
    return render(
        "console/settings.html",
        block,
        campaign=campaign,
        reminders=reminders.reminder_settings(campaign),
        kinds=KIND_LABELS,
        saved=saved,
    )
