"""Organizers' exports (issue 10 §6): entries and units as Excel workbooks, one entry's
printable 报名表 as PDF, and the evidence of a filtered set of entries as a ZIP.

Rules every file keeps:
- a cell never becomes a formula: text beginning with `= + - @`, a tab or a carriage return
  is prefixed with `'` (OWASP's advice against CSV/formula injection), so a department named
  `=HYPERLINK(…)` stays text in Excel and in WPS;
- phone numbers are whole only for organizers with the PII right (`Account.pii`), masked
  otherwise (campaign.pii);
- the workbooks are plain openpyxl output (no shared formulas, no merged styles), which
  Excel opens without a repair prompt; the tests read every file back with openpyxl.
Each builder takes a `progress(done, total)` callback, so a job can report as it goes.
"""

import io
import zipfile
from collections.abc import Callable, Iterable

from campaign.clock import iso_local
from campaign.definition import options
from campaign.entries import search, status
from campaign.entries.evidence import KIND_LABELS, download_name
from campaign.entries.operations import ELEMENTS, counts
from campaign.pii import mask_phone
from models import Attachment, Entry, Unit
from storage import Storage, StorageError

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PROGRESS_EVERY = 200
KINDS = ("entries", "units", "entry_pdf", "evidence_zip")
ELEMENT_LABELS = {
    "background": "背景",
    "approach": "做法",
    "results": "成效",
    "significance": "意义",
}
TRACK_LABELS = {"brand": "党建品牌", "case": "优秀案例"}

Progress = Callable[[int, int], None]


def safe_cell(value):
    """`value` as a cell can hold it without ever being evaluated as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def phone(value: str, pii: bool) -> str | None:
    return value if pii else mask_phone(value)


def _labels(campaign, kind: str) -> dict:
    return {o.code: o.label for o in options(campaign, kind)}


def _workbook(sheet_name: str, header: list, rows: Iterable[list]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name)
    sheet.append(header)
    for row in rows:
        sheet.append([safe_cell(value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


ENTRY_HEADER = [
    "编号", "类别", "标题", "领域", "主题", "单位名称", "地区", "组织层级", "联系人", "联系电话",
    "征集方式", "推荐单位", "状态", "提交时间", "摘要字数", "正文字数", "佐证材料数",
    "内容检测", "疑似重复组", "摘要", "背景", "做法", "成效", "意义",
]  # fmt: skip


def entries_workbook(campaign, filters: dict, text: str, pii: bool, progress: Progress) -> bytes:
    """Every field of every matching entry, with its unit, counts and status."""
    query = search.entries(campaign, filters, text).order_by(Entry.id)
    total = query.count()
    domains, themes, routes = (_labels(campaign, k) for k in ("domain", "theme", "route"))
    evidence = _evidence_counts(campaign)

    def rows():
        for done, entry in enumerate(query.iterator(), start=1):
            unit, measured = entry.unit, counts(entry)
            chosen = entry.themes if isinstance(entry.themes, list) else []
            theme_labels = "、".join(themes.get(t, t) for t in chosen)
            yield [
                entry.id, TRACK_LABELS.get(entry.track, entry.track), entry.title,
                domains.get(entry.domain, entry.domain), theme_labels,
                unit.name, unit.region, unit.org_level, unit.contact_name,
                phone(unit.contact_phone, pii), routes.get(entry.route, entry.route),
                entry.department.name if entry.department_id else "",
                status.LABELS.get(entry.status, entry.status),
                iso_local(entry.submitted_at, campaign.timezone) or "",
                measured["abstract"], measured["body"], evidence.get(entry.id, 0),
                entry.content_check, entry.duplicate_group or "", entry.abstract,
                *[getattr(entry, name) for name in ELEMENTS],
            ]  # fmt: skip
            if done % PROGRESS_EVERY == 0 or done == total:
                progress(done, total)

    progress(0, total)
    return _workbook("案例", ENTRY_HEADER, rows())


def _evidence_counts(campaign) -> dict[int, int]:
    from peewee import fn

    query = (
        Attachment.select(Attachment.entry, fn.COUNT(Attachment.id))
        .join(Entry)
        .where(Entry.campaign == campaign)
        .group_by(Attachment.entry)
    )
    return dict(query.tuples())


UNIT_HEADER = ["编号", "单位名称", "地区", "领域", "组织层级", "联系人", "联系电话", "案例数"]


def units_workbook(campaign, filters: dict, text: str, pii: bool, progress: Progress) -> bytes:
    """Every matching unit with its contact (phone per the PII right) and entry count."""
    query = search.units(campaign, filters, text).order_by(Unit.id)
    total = query.count()
    domains = _labels(campaign, "domain")
    from peewee import fn

    entry_counts = dict(
        Entry.select(Entry.unit, fn.COUNT(Entry.id))
        .where(Entry.campaign == campaign)
        .group_by(Entry.unit)
        .tuples()
    )

    def rows():
        for done, unit in enumerate(query.iterator(), start=1):
            yield [
                unit.id, unit.name, unit.region, domains.get(unit.domain, unit.domain),
                unit.org_level, unit.contact_name, phone(unit.contact_phone, pii),
                entry_counts.get(unit.id, 0),
            ]  # fmt: skip
            if done % PROGRESS_EVERY == 0 or done == total:
                progress(done, total)

    progress(0, total)
    return _workbook("单位", UNIT_HEADER, rows())


def evidence_zip(
    campaign, filters: dict, text: str, storage: Storage, out, progress: Progress
) -> int:
    """Write a ZIP of every stored file of the matching entries into `out`, one folder per
    entry (`<id>-<title>/`), plus `清单.xlsx` listing every item and every link; return the
    number of files."""
    entry_ids = [e.id for e in search.entries(campaign, filters, text).select(Entry.id)]
    rows = list(
        Attachment.select(Attachment, Entry)
        .join(Entry)
        .where(Attachment.entry.in_(entry_ids or [0]))
        .order_by(Attachment.entry, Attachment.id)
    )
    progress(0, len(rows))
    listed, written = [], 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for done, item in enumerate(rows, start=1):
            folder = _folder(item.entry)
            path = ""
            if item.storage_key:
                path = f"{folder}/{item.id}-{download_name(item)}"
                written += _copy(storage, item.storage_key, archive, path)
            listed.append([item.entry_id, item.entry.title, item.kind, item.original_name,
                           path, item.link or "", item.check_status])  # fmt: skip
            if done % PROGRESS_EVERY == 0 or done == len(rows):
                progress(done, len(rows))
        header = ["案例编号", "案例标题", "类别", "名称", "文件", "链接", "检测"]
        archive.writestr("清单.xlsx", _workbook("佐证材料", header, listed))
    return written


def _folder(entry: Entry) -> str:
    title = "".join(ch for ch in (entry.title or "未命名") if ch not in '/\\:*?"<>|')[:40]
    return f"{entry.id}-{title.strip() or '未命名'}"


def _copy(storage: Storage, key: str, archive: zipfile.ZipFile, path: str) -> int:
    try:
        with storage.open(key) as source, archive.open(path, "w") as target:
            while chunk := source.read(1024 * 1024):
                target.write(chunk)
    except StorageError:
        return 0
    return 1


def entry_form_data(entry: Entry, pii: bool) -> dict:
    """What the printable 报名表 of one entry shows (wechat.entry_form draws it)."""
    campaign, unit = entry.campaign, entry.unit
    domains, themes, routes = (_labels(campaign, k) for k in ("domain", "theme", "route"))
    chosen = entry.themes if isinstance(entry.themes, list) else []
    measured = counts(entry)
    evidence = [
        f"{n}. [{KIND_LABELS.get(a.kind, a.kind)}] {a.original_name or ''} {a.link or ''}".strip()
        for n, a in enumerate(entry.attachments.order_by(Attachment.id), start=1)
    ]
    return {
        "title": f"{campaign.title} 报名表",
        "unit": [
            ("单位名称", unit.name), ("所在地区", unit.region),
            ("所属领域", domains.get(unit.domain, unit.domain)), ("组织层级", unit.org_level),
            ("联系人", unit.contact_name), ("联系电话", phone(unit.contact_phone, pii)),
        ],
        "entry": [
            ("案例编号", entry.id), ("申报类别", TRACK_LABELS.get(entry.track, entry.track)),
            ("案例标题", entry.title), ("所属领域", domains.get(entry.domain, entry.domain)),
            ("重点工作", "、".join(themes.get(t, t) for t in chosen)),
            ("征集方式", routes.get(entry.route, entry.route)),
            ("推荐单位", entry.department.name if entry.department_id else "—"),
            ("状态", status.LABELS.get(entry.status, entry.status)),
            ("提交时间", iso_local(entry.submitted_at, campaign.timezone) or "—"),
            ("字数", f"摘要 {measured['abstract']} 字，正文 {measured['body']} 字"),
        ],
        "abstract": entry.abstract,
        "elements": [(ELEMENT_LABELS[name], getattr(entry, name)) for name in ELEMENTS],
        "evidence": evidence,
    }  # fmt: skip
