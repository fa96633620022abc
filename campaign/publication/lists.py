"""Publishing the public lists: 初选名单 (shortlist) and 入选名单 (final), each in versions.

Publishing freezes a copy of every line (序号, title, unit as consented, domain, region,
award): later edits to entries never change what the public saw. Lines are grouped by award,
then domain in the campaign's order, and the list says 排名不分先后. Scores, contacts and
phones are never copied. A 递补 (`republish`) is an explicit decision: it drops the lines whose
objection was upheld, adds the named replacements (moved through the status machine) and
publishes the next version; the versions before stay viewable as `superseded`. Finalizing is
refused while any objection to the list is open.
"""

import datetime

from peewee import IntegrityError

from campaign.audit import record
from campaign.clock import to_local
from campaign.definition import options
from campaign.entries import status
from campaign.problems import is_row_id, problem
from campaign.publication import messages, window
from campaign.publication.consent import shown_unit
from models import Decision, Entry, Objection, Publication, PublicationItem, Unit, db, utcnow

SHORTLIST = "shortlist"
FINAL = "final"
KINDS = {SHORTLIST: "初选名单", FINAL: "入选名单"}
SOURCE_STATUS = {SHORTLIST: status.SHORTLISTED, FINAL: status.AWARDED}
AWARDS = ("brand", "case")
OPEN, FINALIZED, SUPERSEDED = "open", "finalized", "superseded"
OPEN_OBJECTIONS = ("received", "verifying")
NOTE = "排名不分先后"
DEFAULT_WITHHELD = "名称不予公开"

MESSAGES = {
    "required": "此项为必填项",
    "invalid_choice": "选项无效",
    "invalid_date": "日期格式不正确（如 2021-10-08）",
    "before_start": "截止日期不能早于开始日期",
    "out_of_range": "数值超出范围",
    "too_long": "内容过长",
    "calendar_missing": "节假日数据未覆盖该年份，请直接填写公示截止日期",
    "not_found": "案例不存在",
    "already_listed": "该案例已在名单中",
    "wrong_status": "该案例当前状态不能递补",
}
LIMITS = {"title": 200, "intro": 2000, "contact_text": 1000, "withheld_label": 64, "reason": 2000}


class PublicationInvalid(Exception):
    """The request breaks rules; `problems` lists every one (answered as 422)."""

    def __init__(self, problems: list[dict]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


class PublicationRefused(Exception):
    """The list is not in a state that allows this (answered as 409)."""

    def __init__(self, code: str, message: str, **details):
        super().__init__(code)
        self.code = code
        self.message = message
        self.details = details


def _problem(field: str, code: str, **details) -> dict:
    return problem(field, code, MESSAGES, **details)


def local_today(campaign, now: datetime.datetime | None = None) -> datetime.date:
    return to_local(now or utcnow(), campaign.timezone).date()


# --- Reading ---------------------------------------------------------------------------------


def candidates(campaign, kind: str, withheld_label: str = DEFAULT_WITHHELD) -> list[dict]:
    """The lines publishing `kind` now would freeze, in list order (序号 from 1)."""
    entries = (
        Entry.select(Entry, Unit)
        .join(Unit)
        .where((Entry.campaign == campaign) & (Entry.status == SOURCE_STATUS[kind]))
        .order_by(Entry.id)
    )
    awards = _awards([entry.id for entry in entries]) if kind == FINAL else {}
    labels = _labels(campaign)
    lines = [_line(labels, entry, awards.get(entry.id, entry.track), withheld_label)
             for entry in entries]  # fmt: skip
    return _numbered(labels, lines)


def _awards(entry_ids: list[int]) -> dict[int, str]:
    """Each entry's award from its decision (brand | case); the track where none says."""
    if not entry_ids:
        return {}
    rows = Decision.select(Decision.entry, Decision.award).where(
        Decision.entry.in_(entry_ids) & Decision.award.in_(AWARDS)
    )
    return {row.entry_id: row.award for row in rows}


def _line(labels: dict, entry: Entry, award: str, withheld_label: str) -> dict:
    unit, withheld = shown_unit(entry, withheld_label)
    return {
        "entry": entry.id,
        "title": entry.title,
        "unit": unit,
        "unit_withheld": withheld,
        "domain": entry.domain,
        "domain_label": labels["domain"].get(entry.domain, entry.domain),
        "region": entry.unit.region,
        "award": award,
        "award_label": labels["track"].get(award, award),
    }


def _labels(campaign) -> dict[str, dict[str, str]]:
    """Code → label of the campaign's domains and tracks (awards), in the campaign's order."""
    return {
        kind: {option.code: option.label for option in options(campaign, kind)}
        for kind in ("domain", "track")
    }


def _numbered(labels: dict, lines: list[dict]) -> list[dict]:
    """Grouped by award (brand first), then domain in the campaign's order, then entry id."""
    domains = list(labels["domain"])
    awards = list(labels["track"]) or list(AWARDS)

    def key(line):
        award = awards.index(line["award"]) if line["award"] in awards else len(awards)
        domain = domains.index(line["domain"]) if line["domain"] in domains else len(domains)
        return award, domain, line["entry"] or 0

    ordered = sorted(lines, key=key)
    return [{**line, "position": n} for n, line in enumerate(ordered, 1)]


def latest(campaign, kind: str) -> Publication | None:
    """The newest version of `kind` in `campaign` (open or finalized), if any."""
    return (
        Publication.select()
        .where((Publication.campaign == campaign) & (Publication.kind == kind))
        .order_by(Publication.version.desc())
        .first()
    )


def current(campaign) -> Publication | None:
    """What the public page shows: the most recently published list not superseded."""
    if campaign is None:
        return None
    return (
        Publication.select()
        .where((Publication.campaign == campaign) & (Publication.state != SUPERSEDED))
        .order_by(Publication.published_at.desc(), Publication.id.desc())
        .first()
    )


def items(publication: Publication) -> list[PublicationItem]:
    return list(publication.items.order_by(PublicationItem.position))


def open_objections(publication: Publication) -> int:
    """Objections still open against any version of this list."""
    versions = Publication.select(Publication.id).where(
        (Publication.campaign == publication.campaign_id) & (Publication.kind == publication.kind)
    )
    return (
        Objection.select()
        .where(Objection.publication.in_(versions) & Objection.state.in_(OPEN_OBJECTIONS))
        .count()
    )


# --- Options of a publication ---------------------------------------------------------------


def check_settings(campaign, data: dict, today: datetime.date, base=None) -> dict:
    """Clean `title`, `intro`, `contact_text`, `withheld_label`, `starts_on`, `ends_on` and
    `working_days`; anything missing comes from `base` (a publication) or the defaults."""
    problems = []
    kind = data.get("kind", base.kind if base else None)
    if not isinstance(kind, str) or kind not in KINDS:
        problems.append(_problem("kind", "invalid_choice", choices=list(KINDS)))
    clean = {
        "title": f"{campaign.title}{KINDS.get(kind, '') if isinstance(kind, str) else ''}公示",
        "intro": "",
        "contact_text": default_contact(campaign),
        "withheld_label": DEFAULT_WITHHELD,
    }
    if base is not None:
        clean.update({name: getattr(base, name) for name in clean})
    for name, limit in LIMITS.items():
        if name not in data or name == "reason":
            continue
        value = data[name]
        blank = isinstance(value, str) and not value.strip()
        if not isinstance(value, str) or (blank and name in ("title", "withheld_label")):
            problems.append(_problem(name, "required"))
        elif len(value) > limit:
            problems.append(_problem(name, "too_long", max=limit))
        else:
            clean[name] = value.strip()
    starts_on = _date(data, "starts_on", problems) or today
    days = data.get("working_days", window.DEFAULT_WORKING_DAYS)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 60:
        problems.append(_problem("working_days", "out_of_range", min=1, max=60))
        days = window.DEFAULT_WORKING_DAYS
    ends_on = _date(data, "ends_on", problems)
    if ends_on is None and data.get("ends_on") is None:
        try:
            ends_on = window.window_end(starts_on, days)
        except window.CalendarMissing as missing:
            problems.append(_problem("ends_on", "calendar_missing", year=missing.year))
    if ends_on is not None and ends_on < starts_on:
        problems.append(_problem("ends_on", "before_start"))
    if problems:
        raise PublicationInvalid(problems)
    return {**clean, "kind": kind, "starts_on": starts_on, "ends_on": ends_on}


def _date(data: dict, field: str, problems: list) -> datetime.date | None:
    value = data.get(field)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(_problem(field, "invalid_date"))
    return None


def default_contact(campaign) -> str:
    """The objection channels from the campaign's contact: the organizer's phones and address."""
    contact = campaign.contact or {}
    parts = []
    if contact.get("phones"):
        parts.append("联系电话：" + "，".join(contact["phones"]))
    if contact.get("address"):
        postcode = f"（邮编 {contact['postcode']}）" if contact.get("postcode") else ""
        parts.append(f"来信地址：{contact['address']}{postcode}")
    return "；".join(parts)


# --- Changing ---------------------------------------------------------------------------------


def publish(campaign, data: dict, actor: str, now=None) -> Publication:
    """Freeze the current shortlisted (or awarded) entries as the next version of the list."""
    today = local_today(campaign, now)
    settings = check_settings(campaign, data, today)
    kind = settings["kind"]
    before = latest(campaign, kind)
    if before is not None and before.state == FINALIZED:
        raise PublicationRefused("already_finalized", f"{KINDS[kind]}已定稿，不能再发布")
    lines = candidates(campaign, kind, settings["withheld_label"])
    if not lines:
        raise PublicationRefused("nothing_to_publish", f"没有可列入{KINDS[kind]}的案例")
    publication = _create(campaign, settings, lines, before, "", actor, "publication.publish")
    messages.notify(publication, "published", [line["entry"] for line in lines], now)
    return publication


def _create(campaign, settings, lines, before, reason, actor, action) -> Publication:
    with db.atomic():
        if before is not None:
            moved = (
                Publication.update(state=SUPERSEDED)
                .where((Publication.id == before.id) & (Publication.state == OPEN))
                .execute()
            )
            if not moved:
                raise PublicationRefused("not_latest", "名单已被他人更新，请刷新后重试")
        try:
            with db.atomic():
                publication = Publication.create(
                    campaign=campaign,
                    version=before.version + 1 if before else 1,
                    reason=reason,
                    previous=before,
                    published_by=actor,
                    **settings,
                )
        except IntegrityError:  # the same version published at the same moment by someone else
            raise PublicationRefused("not_latest", "名单已被他人更新，请刷新后重试") from None
        PublicationItem.insert_many(
            [{**line, "publication": publication.id} for line in lines]
        ).execute()
        record(
            actor,
            action,
            publication,
            {"version": before.version} if before else None,
            {
                "kind": publication.kind,
                "version": publication.version,
                "items": len(lines),
                "starts_on": str(publication.starts_on),
                "ends_on": str(publication.ends_on),
                "reason": reason,
            },
            campaign=campaign.id,
        )
    return publication


def set_window(publication: Publication, data: dict, actor: str) -> Publication:
    """The organizer edits the window's end (or start): the dates stay theirs to decide."""
    _require_open(publication)
    problems = []
    starts_on = _date(data, "starts_on", problems) or publication.starts_on
    ends_on = _date(data, "ends_on", problems)
    if data.get("ends_on") is None:  # absent or null: the window needs an end
        problems.append(_problem("ends_on", "required"))
    if ends_on is not None and ends_on < starts_on:
        problems.append(_problem("ends_on", "before_start"))
    if problems:
        raise PublicationInvalid(problems)
    before = {"starts_on": str(publication.starts_on), "ends_on": str(publication.ends_on)}
    with db.atomic():
        Publication.update(starts_on=starts_on, ends_on=ends_on).where(
            Publication.id == publication.id
        ).execute()
        after = {"starts_on": str(starts_on), "ends_on": str(ends_on)}
        record(actor, "publication.window", publication, before, after, publication.campaign_id)
    return Publication.get_by_id(publication.id)


def _require_open(publication: Publication) -> None:
    if publication.state == SUPERSEDED:
        raise PublicationRefused("superseded", "这是旧版本名单，请在最新版本上操作")
    if publication.state == FINALIZED:
        raise PublicationRefused("already_finalized", "名单已定稿")


def finalize(publication: Publication, actor: str, now=None) -> Publication:
    """Close the list for good once its window is over and no objection is open."""
    _require_open(publication)
    if local_today(publication.campaign, now) <= publication.ends_on:
        raise PublicationRefused("window_open", "公示期尚未结束，不能定稿")
    waiting = open_objections(publication)
    if waiting:
        raise PublicationRefused(
            "objections_open", f"还有 {waiting} 件异议未办结，不能定稿", open=waiting
        )
    with db.atomic():
        moved = (
            Publication.update(state=FINALIZED, finalized_by=actor, finalized_at=utcnow())
            .where((Publication.id == publication.id) & (Publication.state == OPEN))
            .execute()
        )
        if not moved:
            raise PublicationRefused("not_latest", "名单已被他人更新，请刷新后重试")
        record(
            actor,
            "publication.finalize",
            publication,
            {"state": OPEN},
            {"state": FINALIZED},
            publication.campaign_id,
        )
    if publication.kind == FINAL:
        messages.notify(publication, "awarded", [item.entry_id for item in items(publication)], now)
    return Publication.get_by_id(publication.id)


def withdrawn_entries(publication: Publication) -> set[int]:
    """Entries of this list whose objection was upheld (against any version)."""
    versions = Publication.select(Publication.id).where(
        (Publication.campaign == publication.campaign_id) & (Publication.kind == publication.kind)
    )
    rows = Objection.select(Objection.entry).where(
        Objection.publication.in_(versions)
        & (Objection.state == "upheld")
        & Objection.entry.is_null(False)
    )
    return {row.entry_id for row in rows}


def republish(publication: Publication, data: dict, actor: str, now=None) -> Publication:
    """递补: the next version without the upheld lines and with the named replacements.

    `data`: `{"reason": "…", "add": [{"entry": id, "award": "brand"|"case"}], "starts_on"?,
    "ends_on"?, "working_days"?}`. Each replacement moves to the list's status through the
    status machine (audited) unless it is there already. The new version gets its own window.
    """
    _require_open(publication)
    campaign = publication.campaign
    today = local_today(campaign, now)
    window_data = {k: data[k] for k in ("starts_on", "ends_on", "working_days") if k in data}
    problems = []
    try:
        settings = check_settings(campaign, window_data, today, base=publication)
    except PublicationInvalid as invalid:
        problems += invalid.problems
        settings = None
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        problems.append(_problem("reason", "required"))
    elif len(reason) > LIMITS["reason"]:
        problems.append(_problem("reason", "too_long", max=LIMITS["reason"]))
    kept_items = items(publication)
    removed = withdrawn_entries(publication)
    listed = {item.entry_id for item in kept_items if item.entry_id not in removed}
    additions = _check_additions(publication, data.get("add", []), listed, problems)
    if problems:
        raise PublicationInvalid(problems)
    kept = [_copy(item) for item in kept_items if item.entry_id not in removed]
    dropped = len(kept_items) - len(kept)
    if not additions and not dropped:
        raise PublicationRefused("nothing_changed", "名单没有变化：没有成立的异议，也没有递补案例")
    target = SOURCE_STATUS[publication.kind]
    labels = _labels(campaign)
    with db.atomic():
        lines = list(kept)
        for entry, award in additions:
            if entry.status != target:
                status.move(entry, target, actor, f"递补：{reason.strip()}")
            lines.append(_line(labels, entry, award, settings["withheld_label"]))
        new = _create(
            campaign,
            settings,
            _numbered(labels, lines),
            publication,
            reason.strip(),
            actor,
            "publication.republish",
        )
    changed = removed | {entry.id for entry, _ in additions}
    messages.notify(new, "changed", changed, now)
    return new


def _copy(item: PublicationItem) -> dict:
    """A frozen line carried into the next version unchanged (not re-read from the entry)."""
    names = ("title", "unit", "unit_withheld", "domain", "domain_label", "region", "award")
    return {"entry": item.entry_id, "award_label": item.award_label,
            **{name: getattr(item, name) for name in names}}  # fmt: skip


def _check_additions(publication, raw, listed: set[int], problems: list) -> list[tuple]:
    if not isinstance(raw, list) or len(raw) > 500:
        problems.append(_problem("add", "invalid_choice"))
        return []
    target = SOURCE_STATUS[publication.kind]
    found = []
    for n, wanted in enumerate(raw):
        where = f"add[{n}]"
        wanted = wanted if isinstance(wanted, dict) else {}
        entry_id, award = wanted.get("entry"), wanted.get("award")
        entry = (
            Entry.get_or_none((Entry.id == entry_id) & (Entry.campaign == publication.campaign_id))
            if is_row_id(entry_id)
            else None
        )
        if award not in AWARDS:
            problems.append(_problem(f"{where}.award", "invalid_choice", choices=list(AWARDS)))
        if entry is None:
            problems.append(_problem(f"{where}.entry", "not_found"))
        elif entry.id in listed or any(e.id == entry.id for e, _ in found):
            problems.append(_problem(f"{where}.entry", "already_listed"))
        elif entry.status != target and not status.can_move(entry.status, target):
            problems.append(_problem(f"{where}.entry", "wrong_status", status=entry.status))
        elif award in AWARDS:
            found.append((entry, award))
    return found
