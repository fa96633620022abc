"""Objections to a published list (公示异议), handled as tickets.

    received ─▶ verifying ─▶ upheld | rejected | withdrawn
        └─▶ not_accepted (不予受理: e.g. an anonymous tip without specifics) | withdrawn

Objections are real-name, as Chinese 公示 notices require: a person gives a name and a phone;
a unit gives its name, a contact and phone, and a letter with its seal (a scan or photo, kept in
the evidence storage). The public files through the H5 form while the window is open; staff
enter phone calls, letters and visits at any time, and for a letter the postmark date decides
whether it came in time ("信函的有效时间以发信时的当地邮戳为准"). Staff may record an
anonymous tip so it is on file, and then close it as 不予受理 with that reason.

An upheld objection against a line of the list withdraws that entry's award (or shortlisting)
through the status machine, audited; the list itself changes only when the organizer
republishes it (`lists.republish`). Every step is audited; the audit never copies the filer's
phone.
"""

import datetime
from typing import BinaryIO

from campaign.audit import record
from campaign.clock import iso_local
from campaign.entries import status
from campaign.entries.evidence import EvidenceRefused, inspect_file
from campaign.problems import is_row_id, problem
from campaign.publication import lists
from campaign.publication.window import window_state
from campaign.units import LANDLINE, MOBILE, normalize_phone
from models import Objection, Publication, PublicationItem, db, utcnow
from storage import Storage

RECEIVED, VERIFYING = "received", "verifying"
UPHELD, REJECTED, WITHDRAWN, NOT_ACCEPTED = "upheld", "rejected", "withdrawn", "not_accepted"
TRANSITIONS = {
    RECEIVED: {VERIFYING, NOT_ACCEPTED, WITHDRAWN},
    VERIFYING: {UPHELD, REJECTED, WITHDRAWN},
}
STATES = (RECEIVED, VERIFYING, UPHELD, REJECTED, WITHDRAWN, NOT_ACCEPTED)
LABELS = {
    RECEIVED: "已收到",
    VERIFYING: "核查中",
    UPHELD: "异议成立",
    REJECTED: "异议不成立",
    WITHDRAWN: "已撤回",
    NOT_ACCEPTED: "不予受理",
}
NEEDS_REPLY = (UPHELD, REJECTED, NOT_ACCEPTED)
ANONYMOUS_REPLY = "匿名线索不清，不予受理"
FILERS = ("person", "unit", "anonymous")
CHANNELS = ("h5", "phone", "letter", "visit")
STAFF_CHANNELS = ("phone", "letter", "visit")
LETTER_LIMITS = {"max_mb": 10, "max_count": 1}
MAX_CONTENT = 2000

MESSAGES = {
    "required": "此项为必填项",
    "invalid_choice": "选项无效",
    "invalid_phone": "请填写正确的手机号或座机号（如 0591-87808286）",
    "too_long": "内容过长",
    "invalid_date": "日期格式不正确（如 2021-10-08）",
    "real_name_required": "异议须实名提出：个人请填写姓名和电话，单位请填写单位名称、联系人和电话",
    "letter_required": "以单位名义提出异议，须上传加盖单位公章的书面材料",
    "not_on_list": "名单中没有这个序号",
    "illegal_transition": "当前状态不能进行此操作",
}


class ObjectionInvalid(Exception):
    def __init__(self, problems: list[dict]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


class ObjectionRefused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(code)
        self.code = code
        self.message = message


def _problem(field: str, code: str, **details) -> dict:
    return problem(field, code, MESSAGES, **details)


def _text(data: dict, field: str, limit: int, problems: list, required: bool) -> str:
    value = data.get(field, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.append(_problem(field, "required"))
        return ""
    value = value.strip()
    if required and not value:
        problems.append(_problem(field, "required"))
    elif len(value) > limit:
        problems.append(_problem(field, "too_long", max=limit))
    return value


def check_objection(publication: Publication, data: dict, via: str, has_letter: bool) -> dict:
    """Clean an objection (from the H5 form when `via` is h5, else from staff); every problem
    at once."""
    problems = []
    filer = data.get("filer_kind", "person")
    if filer not in FILERS or (via == "h5" and filer == "anonymous"):
        problems.append(_problem("filer_kind", "invalid_choice", choices=["person", "unit"]))
    clean = {
        "filer_kind": filer,
        "name": _text(data, "name", 100, problems, False),
        "unit_name": _text(data, "unit_name", 200, problems, False),
        "content": _text(data, "content", MAX_CONTENT, problems, True),
        "phone": "",
    }
    raw_phone = _text(data, "phone", 32, problems, False)
    if raw_phone:
        clean["phone"] = normalize_phone(raw_phone)
        if not (MOBILE.match(clean["phone"]) or LANDLINE.match(clean["phone"])):
            problems.append(_problem("phone", "invalid_phone"))
    if filer == "person" and not (clean["name"] and raw_phone):
        problems.append(_problem("name", "real_name_required"))
    if filer == "unit" and not (clean["unit_name"] and clean["name"] and raw_phone):
        problems.append(_problem("unit_name", "real_name_required"))
    if filer == "unit" and via == "h5" and not has_letter:  # staff hold the paper letter
        problems.append(_problem("letter", "letter_required"))
    clean["entry"] = _listed_entry(publication, data.get("item"), problems)
    clean["postmark_on"] = None
    if via == "letter":
        postmark = data.get("postmark_on")
        try:
            clean["postmark_on"] = datetime.date.fromisoformat(postmark)
        except (TypeError, ValueError):
            problems.append(_problem("postmark_on", "invalid_date" if postmark else "required"))
    if problems:
        raise ObjectionInvalid(problems)
    return clean


def _listed_entry(publication: Publication, item, problems: list):
    """The entry behind 序号 `item` of the list; None for an objection to the whole list."""
    if item in (None, ""):
        return None
    if isinstance(item, str) and item.strip().isdigit():
        item = int(item.strip())
    line = (
        PublicationItem.get_or_none(
            (PublicationItem.publication == publication) & (PublicationItem.position == item)
        )
        if is_row_id(item)
        else None
    )
    if line is None:
        problems.append(_problem("item", "not_on_list"))
        return None
    return line.entry_id


def store_letter(stream: BinaryIO, storage: Storage) -> tuple[str, str]:
    """Check and keep the stamped letter (PDF or photo, re-encoded without metadata)."""
    try:
        prepared = inspect_file("press", stream, LETTER_LIMITS)
    except EvidenceRefused as refused:
        raise ObjectionInvalid([{**refused.as_problem(), "field": "letter"}]) from None
    try:
        stored = storage.save(prepared.stream, prepared.type.extension)
    finally:
        if prepared.stream is not stream:
            prepared.stream.close()
    return stored.key, prepared.type.mime


def is_timely(publication: Publication, via: str, postmark_on, now: datetime.datetime) -> bool:
    """Within the window: by the postmark for letters, by the day received otherwise."""
    day = postmark_on if via == "letter" else lists.local_today(publication.campaign, now)
    return publication.starts_on <= day <= publication.ends_on


def file_staff_objection(
    publication: Publication,
    data: dict,
    actor: str,
    letter: BinaryIO | None = None,
    storage: Storage | None = None,
) -> Objection:
    """An objection staff enter (`data["received_via"]`: a phone call, a letter or a visit);
    the H5 form files through `file_objection` with `h5`."""
    via = data.get("received_via")
    if via not in STAFF_CHANNELS:
        choices = list(STAFF_CHANNELS)
        raise ObjectionInvalid([problem("received_via", "invalid_choice", choices=choices)])
    return file_objection(publication, data, via, actor, letter=letter, storage=storage)


def file_objection(
    publication: Publication,
    data: dict,
    via: str,
    actor: str,
    letter: BinaryIO | None = None,
    storage: Storage | None = None,
    now: datetime.datetime | None = None,
) -> Objection:
    """Record an objection; the public (via h5) only while the window is open."""
    if via not in CHANNELS:
        raise ValueError(via)
    now = now or utcnow()
    if via == "h5":
        today = lists.local_today(publication.campaign, now)
        if publication.state != lists.OPEN or (
            window_state(publication.starts_on, publication.ends_on, today) != "open"
        ):
            raise ObjectionRefused("window_closed", "不在公示期内，不能在线提出异议")
    clean = check_objection(publication, data, via, letter is not None)
    letter_key, letter_mime = store_letter(letter, storage) if letter is not None else (None, "")
    try:
        with db.atomic():
            objection = Objection.create(
                publication=publication,
                received_via=via,
                letter_key=letter_key,
                letter_mime=letter_mime,
                timely=is_timely(publication, via, clean["postmark_on"], now),
                entered_by=actor,
                received_at=now,
                **clean,
            )
            record(
                actor,
                "objection.file",
                objection,
                None,
                {
                    "publication": publication.id,
                    "entry": clean["entry"],
                    "filer_kind": clean["filer_kind"],
                    "via": via,
                    "timely": objection.timely,
                },
                publication.campaign_id,
            )
    except BaseException:
        if letter_key and storage is not None:
            storage.delete(letter_key)
        raise
    return objection


def handle(objection: Objection, data: dict, actor: str) -> Objection:
    """Move the ticket: `{"to": state, "reply": "…", "handler": "…"}`; upheld withdraws the
    award of the entry it names."""
    target = data.get("to")
    current = objection.state
    problems = []
    if target not in STATES or target not in TRANSITIONS.get(current, ()):
        problems.append(_problem("to", "illegal_transition", state=current))
    reply = _text(data, "reply", MAX_CONTENT, problems, False)
    if target == NOT_ACCEPTED and not reply and objection.filer_kind == "anonymous":
        reply = ANONYMOUS_REPLY
    if target in NEEDS_REPLY and not reply:
        problems.append(_problem("reply", "required"))
    handler = _text(data, "handler", 64, problems, False) or objection.handler or actor
    if problems:
        raise ObjectionInvalid(problems)
    now = utcnow()
    changes = {"state": target, "handler": handler}
    if reply:
        changes.update(reply=reply, replied_at=now)
    with db.atomic():
        moved = (
            Objection.update(**changes)
            .where((Objection.id == objection.id) & (Objection.state == current))
            .execute()
        )
        if not moved:
            raise ObjectionRefused("conflict", "该异议已被他人处理，请刷新后重试")
        record(
            actor,
            f"objection.{target}",
            objection,
            {"state": current},
            {"state": target, "handler": handler, "reply": reply},
            objection.publication.campaign_id,
        )
        if target == UPHELD and objection.entry_id:
            _withdraw_award(objection, actor)
    return Objection.get_by_id(objection.id)


def _withdraw_award(objection: Objection, actor: str) -> None:
    """The entry leaves the list's status (awarded or shortlisted → not selected)."""
    entry = objection.entry
    listed = lists.SOURCE_STATUS[objection.publication.kind]
    if entry.status == listed:
        status.move(entry, status.NOT_SELECTED, actor, f"公示异议成立（异议 {objection.id}）")


def payload(objection: Objection, timezone: str) -> dict:
    """The ticket for organizers (never shown to the public)."""
    return {
        "id": objection.id,
        "publication": objection.publication_id,
        "entry": objection.entry_id,
        "filer_kind": objection.filer_kind,
        "name": objection.name,
        "phone": objection.phone,
        "unit_name": objection.unit_name,
        "content": objection.content,
        "received_via": objection.received_via,
        "postmark_on": objection.postmark_on and str(objection.postmark_on),
        "has_letter": bool(objection.letter_key),
        "timely": objection.timely,
        "state": objection.state,
        "state_label": LABELS[objection.state],
        "handler": objection.handler,
        "reply": objection.reply,
        "replied_at": iso_local(objection.replied_at, timezone),
        "received_at": iso_local(objection.received_at, timezone),
        "entered_by": objection.entered_by,
    }
