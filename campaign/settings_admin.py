"""Campaign settings an organizer changes through the API (issue 10 §8): the collection
window and grace, the review and publication windows, the stage, quotas and criterion
weights. No YAML, no restart.

Guards: a change is refused (SettingsRefused, 409) when it would reopen collection after
review started (the stage left `collection`, or the review window opened), or move the stage
backwards, unless `force` is given with a reason. Every change is audited with its values
before and after. Moving the deadline moves what was timed by it: organizers' notices
scheduled "T-n days before the deadline" that have not gone out get their new time and
re-rendered deadline values, and the automatic countdown reminders start over for the new
deadline (those of the old one keep their history under a retired key).
"""

import datetime

from campaign.audit import record
from campaign.definition import options, restamp_options
from campaign.entries.operations import COLLECTION_STAGE, deadline
from campaign.notices import operations as notices
from campaign.problems import Invalid, is_whole_number
from models import Campaign, CampaignOption, Notice, NoticeAnchor, db, utcnow

MOMENTS = (
    "opens_at",
    "closes_at",
    "review_opens_at",
    "review_closes_at",
    "publish_from",
    "publish_until",
)
ORDER = (
    ("opens_at", "closes_at"),
    ("review_opens_at", "review_closes_at"),
    ("publish_from", "publish_until"),
    ("closes_at", "review_opens_at"),
    ("review_closes_at", "publish_from"),
)
MAX_GRACE = 7 * 24 * 60
YEARS = (2000, 2100)  # a campaign's moments; far ones would overflow deadline arithmetic
MESSAGES = {
    "invalid_datetime": "时间格式不正确（ISO 8601，如 2021-10-31T23:59:59+08:00）",
    "out_of_order": "时间先后顺序不正确",
    "invalid_choice": "选项无效",
    "out_of_range": "数值超出范围",
    "weights_total": "评分标准权重合计须为 100",
    "unknown_field": "不支持的设置项",
    "reason_required": "强制修改须填写理由",
}


class SettingsInvalid(Exception):
    def __init__(self, problems: list[dict]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


class SettingsRefused(Exception):
    """The change is guarded; `force` with a `reason` lets it through."""

    def __init__(self, code: str, message: str):
        super().__init__(code)
        self.code = code
        self.message = message


def _problem(field: str, code: str, **details) -> dict:
    return {"field": field, "code": code, "message": MESSAGES[code], **details}


def view(campaign: Campaign) -> dict:
    """The settings as the API shows them (moments as naive UTC, in ISO 8601 with `Z`)."""
    return {
        **{name: _iso(getattr(campaign, name)) for name in MOMENTS},
        "grace_minutes": campaign.grace_minutes,
        "stage": campaign.stage,
        "stages": [o.code for o in options(campaign, "stage")],
        "quotas": campaign.quotas,
        "weights": {o.code: o.weight for o in options(campaign, "criterion")},
    }


def _iso(moment: datetime.datetime | None) -> str | None:
    return moment.isoformat() + "Z" if moment else None


def check(campaign: Campaign, data: dict) -> tuple[dict, dict, list[dict]]:
    """(campaign field changes, criterion weights, every problem)."""
    changes, weights, problems = {}, {}, []
    allowed = {*MOMENTS, "grace_minutes", "stage", "quotas", "weights", "force", "reason"}
    problems += [_problem(str(name), "unknown_field") for name in data if name not in allowed]
    for name in MOMENTS:
        if name in data:
            moment = _moment(data[name], nullable=name not in ("opens_at", "closes_at"))
            if moment is False:
                problems.append(_problem(name, "invalid_datetime"))
            else:
                changes[name] = moment
    if "grace_minutes" in data:
        grace = data["grace_minutes"]
        if not is_whole_number(grace) or not 0 <= grace <= MAX_GRACE:
            problems.append(_problem("grace_minutes", "out_of_range", min=0, max=MAX_GRACE))
        else:
            changes["grace_minutes"] = grace
    if "stage" in data:
        stages = [o.code for o in options(campaign, "stage")]
        if data["stage"] not in stages:
            problems.append(_problem("stage", "invalid_choice", choices=stages))
        else:
            changes["stage"] = data["stage"]
    if "quotas" in data:
        quotas = _quotas(campaign, data["quotas"], problems)
        if quotas is not None:
            changes["quotas"] = quotas
    if "weights" in data:
        weights = _weights(campaign, data["weights"], problems)
    problems += _order({name: getattr(campaign, name) for name in MOMENTS} | changes)
    return changes, weights, problems


def _moment(value, nullable: bool):
    """Naive UTC from ISO 8601 (naive = UTC), None where allowed, False when invalid."""
    if value is None:
        return None if nullable else False
    try:
        moment = datetime.datetime.fromisoformat(value) if isinstance(value, str) else None
        if moment is not None and moment.tzinfo is not None:
            moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        moment = None
    if moment is None or not YEARS[0] <= moment.year <= YEARS[1]:
        return False
    return moment


def _quotas(campaign: Campaign, value, problems: list) -> dict | None:
    if not isinstance(value, dict):
        problems.append(_problem("quotas", "invalid_choice"))
        return None
    quotas = dict(campaign.quotas or {})
    for key, number in value.items():
        if key not in ("brand", "case"):
            problems.append(_problem(f"quotas.{key}", "unknown_field"))
        elif not is_whole_number(number) or not 0 <= number <= 100_000:
            problems.append(_problem(f"quotas.{key}", "out_of_range", min=0, max=100_000))
        else:
            quotas[key] = number
    return quotas


def _weights(campaign: Campaign, value, problems: list) -> dict:
    current = {o.code: o.weight for o in options(campaign, "criterion")}
    if not isinstance(value, dict):
        problems.append(_problem("weights", "invalid_choice"))
        return {}
    for code, weight in value.items():
        number = isinstance(weight, int | float) and not isinstance(weight, bool)
        if code not in current:
            problems.append(_problem(f"weights.{code}", "invalid_choice"))
        elif not number or not 0 <= weight <= 100:
            problems.append(_problem(f"weights.{code}", "out_of_range", min=0, max=100))
    merged = {**current, **{k: v for k, v in value.items() if k in current}}
    numbers = [v for v in merged.values() if isinstance(v, int | float)]
    if len(numbers) == len(merged) and abs(sum(numbers) - 100) > 1e-6:
        problems.append(_problem("weights", "weights_total", total=sum(numbers)))
    return {k: float(v) for k, v in value.items() if k in current}


def _order(moments: dict) -> list[dict]:
    return [
        _problem(later, "out_of_order", after=earlier)
        for earlier, later in ORDER
        if moments.get(earlier) and moments.get(later) and moments[later] < moments[earlier]
    ]


def review_started(campaign: Campaign, now: datetime.datetime) -> bool:
    opened = campaign.review_opens_at is not None and campaign.review_opens_at <= now
    return campaign.stage != COLLECTION_STAGE or opened


def _guard(campaign: Campaign, changes: dict, now: datetime.datetime) -> None:
    """Raise SettingsRefused for a change that needs `force`."""
    after = Campaign(**{**campaign.__data__, **changes})
    stages = [o.code for o in options(campaign, "stage")]
    if "stage" in changes and stages.index(changes["stage"]) < stages.index(campaign.stage):
        raise SettingsRefused("stage_backwards", "不能退回到之前的阶段")
    reopens = after.stage == COLLECTION_STAGE and now < deadline(after)
    if review_started(campaign, now) and reopens:
        raise SettingsRefused("review_started", "专家点评已开始，不能重新开放征集")


def change(campaign: Campaign, data: dict, actor: str, now=None) -> Campaign:
    """Apply `data` (any subset of the settings); SettingsInvalid / SettingsRefused."""
    now = now or utcnow()
    changes, weights, problems = check(campaign, data)
    force, reason = data.get("force") is True, data.get("reason")
    if force and (not isinstance(reason, str) or not reason.strip()):
        problems.append(_problem("reason", "reason_required"))
    if problems:
        raise SettingsInvalid(problems)
    if not force:
        _guard(campaign, changes, now)
    before = view(campaign)
    with db.atomic():
        if changes:
            Campaign.update(**changes).where(Campaign.id == campaign.id).execute()
        for code, weight in weights.items():
            CampaignOption.update(weight=weight).where(
                (CampaignOption.campaign == campaign)
                & (CampaignOption.kind == "criterion")
                & (CampaignOption.code == code)
            ).execute()
        if weights:
            restamp_options(campaign)
        fresh = Campaign.get_by_id(campaign.id)
        moved = 0
        if "closes_at" in changes and changes["closes_at"] != campaign.closes_at:
            moved = follow_deadline(campaign, fresh, now)
        after = {**view(fresh), "notices_moved": moved}
        if force:
            after["force_reason"] = reason.strip()
        record(actor, "campaign.settings", fresh, before, after, campaign=campaign.id)
    return fresh


def follow_deadline(old: Campaign, new: Campaign, now: datetime.datetime) -> int:
    """Move what was timed by the old deadline; return how many notices moved."""
    retire = f"@{old.closes_at:%Y%m%d%H%M}"
    Notice.update(auto_key=Notice.auto_key.concat(retire)).where(
        (Notice.campaign == new.id) & Notice.auto_key.startswith("deadline:T-")
    ).execute()
    moved = 0
    anchored = (
        Notice.select(Notice, NoticeAnchor)
        .join(NoticeAnchor)
        .where((Notice.campaign == new.id) & (Notice.state == notices.SCHEDULED))
    )
    for notice in anchored:
        spec = {"days": notice.noticeanchor.days, "time": notice.noticeanchor.time}
        send_at = max(notices.send_time(new, {"before_deadline": spec}, datetime.datetime.min), now)
        values = _rerendered(new, notice)
        moved += (
            Notice.update(send_at=send_at, values=values)
            .where((Notice.id == notice.id) & (Notice.state == notices.SCHEDULED))
            .execute()
        )
    return moved


def _rerendered(campaign: Campaign, notice: Notice) -> dict:
    """The notice's values with every one the service fills in (deadline, days left…)
    computed again for the new deadline; what the organizer typed stays."""
    fields = dict(notice.template.fields)
    if notice.fallback_template_id:
        fields.update(notice.fallback_template.fields)
    typed = {k: v for k, v in notice.values.items() if not fields.get(k, {}).get("source")}
    try:
        return notices.check_notice(campaign, {"values": typed}, current=notice)["values"]
    except Invalid:
        return notice.values  # the template changed since: keep what was checked then


def anchor_to_deadline(notice: Notice, when: dict) -> None:
    """Remember that `notice` was scheduled relative to the deadline (`before_deadline`)."""
    spec = when.get("before_deadline") if isinstance(when, dict) else None
    if not isinstance(spec, dict):
        return
    NoticeAnchor.insert(
        notice=notice.id, days=spec["days"], time=str(spec.get("time", "09:00"))
    ).on_conflict(
        conflict_target=[NoticeAnchor.notice], preserve=[NoticeAnchor.days, NoticeAnchor.time]
    ).execute()
