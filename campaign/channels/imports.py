"""Departments from a spreadsheet (.xlsx or .csv): every row checked, all imported or none.

All or nothing, because a half-imported sheet is the hardest state to repair: the organizer
fixes the rows the report names and uploads the same sheet again. Rows naming a department
that already exists with the same route are skipped (and listed), so one master sheet can
be uploaded again as it grows. Columns are found by their header, in Chinese or English,
in any order; routes may be written as codes (`org_dept`) or labels (组织部门推荐, 组织部门).
The parent column names another department, already existing or elsewhere in the sheet.
"""

import csv
import io
from dataclasses import dataclass, field

from campaign.channels.departments import (
    check_fields,
    create_department,
    problem,
    recommendation_routes,
)
from campaign.problems import Refused
from models import Campaign, Department, db

MAX_ROWS = 5000
COLUMNS = {
    "name": ("名称", "部门名称", "单位名称", "推荐单位", "部门", "name"),
    "route": ("征集方式", "推荐渠道", "渠道", "类别", "route"),
    "region": ("地区", "所属地区", "区域", "region"),
    "parent": ("上级", "上级部门", "上级单位", "parent"),
    "contact_name": ("联系人", "联系人姓名", "contactname", "contact"),
    "contact_phone": ("联系电话", "电话", "手机", "联系方式", "contactphone", "phone"),
}
ROW_MESSAGES = {
    "duplicate_in_sheet": "表格中有同名的推荐单位",
    "name_taken": "已有同名但征集方式不同的推荐单位",
}


class SheetRefused(Refused):
    """The file cannot be read as a sheet of departments at all."""

    STATUS = {"unsupported_file_type": 415, "too_many_rows": 413}

    def __init__(self, code: str, message: str, fields=None):
        super().__init__(code, message, self.STATUS.get(code, 422), fields)


class ImportConflict(Refused):
    """A department of the sheet was created by someone else while the sheet was checked."""

    def __init__(self):
        super().__init__("import_conflict", "导入期间推荐单位有变动，请重新上传")


@dataclass
class ImportPlan:
    """What an import would do: rows to create, rows skipped, and every problem found."""

    rows: list[tuple[int, dict, str]] = field(default_factory=list)  # (row, values, parent)
    skipped: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)


def read_sheet(filename: str, content: bytes) -> list[tuple[int, dict]]:
    """(row number as the organizer sees it, {field: text}) for every non-empty row."""
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise SheetRefused("unsupported_file_type", "不支持旧版 .xls 文件，请另存为 .xlsx 或 .csv")
    if content.startswith(b"PK\x03\x04"):
        table = _xlsx_rows(content)
    elif filename.lower().endswith((".csv", ".txt")):
        table = _csv_rows(content)
    else:
        raise SheetRefused("unsupported_file_type", "请上传 .xlsx 或 .csv 文件")
    if not table:
        raise SheetRefused("empty_sheet", "表格是空的")
    columns = _columns(table[0])
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        values = {name: _text(cells[i]) if i < len(cells) else "" for name, i in columns.items()}
        if any(values.values()):
            rows.append((number, values))
    if not rows:
        raise SheetRefused("empty_sheet", "表格中没有推荐单位")
    if len(rows) > MAX_ROWS:
        raise SheetRefused("too_many_rows", f"一次最多导入 {MAX_ROWS} 个推荐单位，请分批上传")
    return rows


def _xlsx_rows(content: bytes) -> list[list]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            return [list(row) for row in sheet.iter_rows(max_row=MAX_ROWS + 2, values_only=True)]
        finally:
            book.close()
    except Exception as exc:  # openpyxl raises many kinds; all mean "not a usable workbook"
        raise SheetRefused("unreadable_file", "无法读取该 Excel 文件，请检查文件是否损坏") from exc


def _csv_rows(content: bytes) -> list[list]:
    """UTF-8 (with or without BOM), else GB18030: what Excel saves CSV as on Chinese Windows."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetRefused("unreadable_file", "无法识别 CSV 文件的编码，请另存为 UTF-8 或 .xlsx")
    try:
        return list(csv.reader(io.StringIO(text)))[: MAX_ROWS + 2]
    except csv.Error as exc:
        raise SheetRefused("unreadable_file", "CSV 文件格式不正确") from exc


def _columns(header: list) -> dict[str, int]:
    """Field → column index, by header name; missing required columns are refused."""
    aliases = {
        alias.lower().replace(" ", "").replace("_", ""): name
        for name, names in COLUMNS.items()
        for alias in names
    }
    found = {}
    for index, cell in enumerate(header):
        key = _text(cell).lower().replace(" ", "").replace("_", "")
        if key in aliases and aliases[key] not in found:
            found[aliases[key]] = index
    missing = [name for name in ("name", "route") if name not in found]
    if missing:
        fields = [{"field": name, "code": "missing_column", "expected": COLUMNS[name][:2]}
                  for name in missing]  # fmt: skip
        raise SheetRefused("missing_columns", "表格缺少必需的列：名称、征集方式", fields)
    return found


def _text(cell) -> str:
    """A cell as text: phone numbers typed as numbers come back as 13800138000, not 1.38e10."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return " ".join(str(cell).split())


def plan_import(campaign: Campaign, rows: list[tuple[int, dict]]) -> ImportPlan:
    """Check every row against the campaign, existing departments and each other."""
    plan = ImportPlan()
    routes = _route_names(campaign)
    existing = {d.name: d for d in Department.select().where(Department.campaign == campaign)}
    seen = set()
    for number, raw in rows:
        data = {**raw, "route": routes.get(raw.get("route", ""), raw.get("route", ""))}
        values, problems = check_fields(campaign, data)
        name = values.get("name", "")
        if name in seen:
            problems.append(_row_problem("name", "duplicate_in_sheet", value=name))
        elif name in existing:
            if existing[name].route == values.get("route"):
                plan.skipped.append({"row": number, "name": name, "reason": "exists"})
                continue
            problems.append(_row_problem("name", "name_taken", value=name))
        seen.add(name)
        plan.problems += [{"row": number, **p} for p in problems]
        plan.rows.append((number, values, raw.get("parent", "")))
    plan.problems += _parent_problems(plan.rows, set(existing))
    plan.problems.sort(key=lambda p: p["row"])
    return plan


def _route_names(campaign: Campaign) -> dict[str, str]:
    """How a route may be written in a sheet → its code."""
    names = {}
    for code, label in recommendation_routes(campaign).items():
        names.update({code: code, label: code, label.removesuffix("推荐"): code})
    return names


def _row_problem(field_name: str, code: str, **details) -> dict:
    return {"field": field_name, "code": code, "message": ROW_MESSAGES[code], **details}


def _parent_problems(rows: list[tuple[int, dict, str]], existing: set[str]) -> list[dict]:
    """Parents must exist (in the campaign or the sheet) and must not loop back."""
    parents = {values.get("name"): parent for _, values, parent in rows}
    problems = []
    for number, values, parent in rows:
        if not parent:
            continue
        if parent not in parents and parent not in existing:
            problems.append({"row": number, **problem("parent", "unknown_parent", value=parent)})
            continue
        chain, current = {values.get("name")}, parent
        while current in parents and current not in chain:
            chain.add(current)
            current = parents[current]
        if current in chain:
            problems.append({"row": number, **problem("parent", "parent_cycle", value=parent)})
    return problems


def apply_import(campaign: Campaign, plan: ImportPlan, actor: str) -> list:
    """Create every planned department (parents resolved by name) in one transaction."""
    parents = {values["name"]: parent for _, values, parent in plan.rows}
    created = []
    with db.atomic():
        by_name = {d.name: d.id for d in Department.select().where(Department.campaign == campaign)}
        for _, values, _ in plan.rows:
            if values["name"] in by_name:
                raise ImportConflict()
            department, channel = create_department(campaign, values, actor)
            by_name[department.name] = department.id
            created.append((department, channel))
        for department, _ in created:
            if parents[department.name]:
                department.parent = by_name[parents[department.name]]
                Department.update(parent=department.parent).where(
                    Department.id == department.id
                ).execute()
    return created


def template_workbook(campaign: Campaign) -> bytes:
    """An .xlsx with the expected headers, and a second sheet explaining them with an example."""
    from openpyxl import Workbook

    headers = ["名称", "征集方式", "地区", "上级单位", "联系人", "联系电话"]
    routes = list(recommendation_routes(campaign).values())
    book = Workbook()
    sheet = book.active
    sheet.title = "推荐单位"
    sheet.append(headers)
    for column, width in zip("ABCDEF", (32, 16, 14, 24, 10, 18), strict=True):
        sheet.column_dimensions[column].width = width
    notes = book.create_sheet("填写说明")
    notes.append(["只导入第一个工作表；名称、征集方式必填；上级单位填写另一推荐单位的名称。"])
    notes.append(["征集方式可填：" + "、".join(routes)])
    notes.append(["地区可填：" + "、".join(campaign.regions or [])])
    notes.append(["示例："])
    notes.append(headers)
    notes.append(["中共某某市委组织部", routes[0] if routes else "", "福州市", "", "张三",
                  "0591-87808286"])  # fmt: skip
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
