"""The mailroom's Excel export: one row per winner, the checklist as columns.

Every text cell goes through `safe_cell`: units type their own names and titles, and a value
starting with `=`, `+`, `-` or `@` would otherwise run as a formula in Excel or WPS (CSV/
formula injection, OWASP). Such values get a leading apostrophe and are written as strings.
"""

import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from campaign.clock import to_local
from campaign.mailin.rules import ITEMS, STATUS_LABELS, winners
from models import Campaign

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
HEADER = ("编码", "单位", "地区", "联系人", "联系电话", "案例名称", "入选类别", "状态",
          *(item.label for item in ITEMS), "缺少", "备注", "签收时间", "齐全时间")  # fmt: skip


def safe_cell(sheet, value):
    """A write-only cell that can never be a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        value = "'" + value
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def _local(moment, timezone: str):
    """Local wall-clock time without an offset (Excel has no time zones), or empty."""
    return to_local(moment, timezone).replace(tzinfo=None) if moment else None


def workbook(campaign: Campaign) -> bytes:
    """邮寄材料 sheet: every winner's mail-in status, as the API shows it."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("邮寄材料")
    sheet.append(list(HEADER))
    labels = {item.code: item.label for item in ITEMS}
    for found in winners(campaign):
        mailin, unit, entry = found.mailin, found.unit, found.entry
        ticked = mailin.checklist or {}
        row = [
            mailin.short_code, unit.name, unit.region, unit.contact_name, unit.contact_phone,
            entry.title, found.award_label, STATUS_LABELS.get(mailin.status, mailin.status),
            *("✓" if ticked.get(item.code) else "" for item in ITEMS),
            "、".join(labels[code] for code in mailin.missing or []), mailin.note,
            _local(mailin.received_at, campaign.timezone),
            _local(mailin.completed_at, campaign.timezone),
        ]  # fmt: skip
        sheet.append([safe_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
