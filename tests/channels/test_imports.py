"""Departments from a sheet, as plain functions: reading any sheet organizers really send,
checking every row against the campaign and each other, and all-or-nothing creation."""

import io

import pytest
from openpyxl import Workbook

from campaign.channels import imports
from campaign.channels.departments import create_department
from models import AuditLog, Channel, Department


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- read_sheet --------------------------------------------------------------------------------


def test_columns_are_found_by_any_alias_in_any_order():
    sheet = "联系电话,Contact_Name,推荐渠道,部门名称\n0591-87808286,李明,组织部门,甲组织部\n"
    assert imports.read_sheet("a.csv", csv_bytes(sheet)) == [
        (2, {"contact_phone": "0591-87808286", "contact_name": "李明", "route": "组织部门",
             "name": "甲组织部"})
    ]  # fmt: skip


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_csv_from_any_excel(encoding):
    rows = imports.read_sheet("a.CSV", csv_bytes("名称,征集方式\n甲组织部,org_dept\n", encoding))
    assert rows == [(2, {"name": "甲组织部", "route": "org_dept"})]


def test_xlsx_numbers_come_back_as_typed_and_empty_rows_are_skipped():
    content = xlsx_bytes([["名称", "征集方式", "手机"], ["甲", "org_dept", 13800138000.0],
                          [None, None, None], ["  乙  党校 ", "party_school", None]])  # fmt: skip
    assert imports.read_sheet("any-name", content) == [
        (2, {"name": "甲", "route": "org_dept", "contact_phone": "13800138000"}),
        (4, {"name": "乙 党校", "route": "party_school", "contact_phone": ""}),
    ]


def test_short_rows_read_as_empty_cells():
    rows = imports.read_sheet("a.csv", csv_bytes("名称,征集方式,地区\n甲,org_dept\n"))
    assert rows == [(2, {"name": "甲", "route": "org_dept", "region": ""})]


@pytest.mark.parametrize(
    "filename, content, code, status",
    [
        ("old.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 50, "unsupported_file_type", 415),
        ("a.pdf", b"%PDF-1.4", "unsupported_file_type", 415),
        ("a.xlsx", b"PK\x03\x04 not really a workbook", "unreadable_file", 422),
        ("a.csv", b"", "empty_sheet", 422),
        ("a.csv", "名称,征集方式\n,\n".encode(), "empty_sheet", 422),
        ("a.csv", "名称,地区\n甲,福州市\n".encode(), "missing_columns", 422),
        ("a.csv", b"\xff\xfe\xfa\x00\x81", "unreadable_file", 422),
    ],
)
def test_sheets_that_cannot_be_read_say_why(filename, content, code, status):
    with pytest.raises(imports.SheetRefused) as caught:
        imports.read_sheet(filename, content)
    assert (caught.value.code, caught.value.status) == (code, status)
    assert caught.value.message


def test_a_missing_column_names_what_was_expected():
    with pytest.raises(imports.SheetRefused) as caught:
        imports.read_sheet("a.csv", "地区\n福州市\n".encode())
    assert [f["field"] for f in caught.value.fields] == ["name", "route"]
    assert caught.value.fields[0]["expected"] == ("名称", "部门名称")


def test_too_many_rows_are_refused(monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    sheet = "名称,征集方式\n" + "".join(f"单位{n},org_dept\n" for n in range(4))
    with pytest.raises(imports.SheetRefused) as caught:
        imports.read_sheet("a.csv", sheet.encode())
    assert (caught.value.code, caught.value.status) == ("too_many_rows", 413)


# --- plan_import -------------------------------------------------------------------------------


def row(number, name, route="org_dept", parent="", **fields):
    return (number, {"name": name, "route": route, "parent": parent, **fields})


def problems_of(plan):
    return [(p["row"], p["field"], p["code"]) for p in plan.problems]


def test_routes_may_be_written_as_codes_labels_or_short_labels(campaign):
    plan = imports.plan_import(
        campaign, [row(2, "甲", "org_dept"), row(3, "乙", "行业部门推荐"), row(4, "丙", "党校系统")]
    )
    assert plan.problems == []
    assert [values["route"] for _, values, _ in plan.rows] == [
        "org_dept",
        "industry_dept",
        "party_school",
    ]


def test_existing_departments_are_skipped_or_refused_by_route(campaign):
    create_department(campaign, {"name": "已有", "route": "org_dept"}, "org:1")
    plan = imports.plan_import(campaign, [row(2, "已有"), row(3, "已有", "party_school")])
    assert plan.skipped == [{"row": 2, "name": "已有", "reason": "exists"}]
    assert problems_of(plan) == [(3, "name", "name_taken")]


def test_every_row_problem_is_listed_in_row_order(campaign):
    plan = imports.plan_import(
        campaign,
        [
            row(5, "甲", parent="乙"),
            row(2, "乙", parent="甲"),
            row(3, "丙", region="火星"),
            row(7, "丙"),
            row(4, "丁", "网络征集", parent="不存在"),
            row(6, "", contact_phone="123"),
        ],
    )
    assert problems_of(plan) == [
        (2, "parent", "parent_cycle"),
        (3, "region", "invalid_choice"),
        (4, "route", "invalid_route"),
        (4, "parent", "unknown_parent"),
        (5, "parent", "parent_cycle"),
        (6, "name", "required"),
        (6, "contact_phone", "invalid_phone"),
        (7, "name", "duplicate_in_sheet"),
    ]
    assert all(p["message"] for p in plan.problems)


def test_a_parent_may_be_an_existing_department(campaign):
    create_department(campaign, {"name": "省委组织部", "route": "org_dept"}, "org:1")
    plan = imports.plan_import(campaign, [row(2, "市委组织部", parent="省委组织部")])
    assert plan.problems == []


# --- apply_import ------------------------------------------------------------------------------


def test_everything_is_created_with_parents_resolved_by_name(campaign):
    top, _ = create_department(campaign, {"name": "省委组织部", "route": "org_dept"}, "org:1")
    plan = imports.plan_import(
        campaign,
        [row(2, "县委组织部", parent="市委组织部"), row(3, "市委组织部", parent="省委组织部")],
    )
    created = imports.apply_import(campaign, plan, "org:2")
    assert [d.name for d, _ in created] == ["县委组织部", "市委组织部"]
    county = Department.get(Department.name == "县委组织部")
    city = Department.get(Department.name == "市委组织部")
    assert (county.parent_id, city.parent_id) == (city.id, top.id)
    assert all(channel.department_id == d.id for d, channel in created)
    assert (
        AuditLog.select()
        .where((AuditLog.action == "department.create") & (AuditLog.actor == "org:2"))
        .count()
        == 2
    )


def test_a_department_created_meanwhile_rolls_back_the_whole_sheet(campaign):
    plan = imports.plan_import(campaign, [row(2, "甲"), row(3, "乙")])
    create_department(campaign, {"name": "乙", "route": "org_dept"}, "someone else")
    with pytest.raises(imports.ImportConflict) as caught:
        imports.apply_import(campaign, plan, "org:1")
    assert (caught.value.code, caught.value.status) == ("import_conflict", 409)
    assert [d.name for d in Department.select()] == ["乙"]
    assert Channel.select().count() == 1


def test_the_template_workbook_reads_back_as_an_empty_sheet(campaign):
    with pytest.raises(imports.SheetRefused) as caught:
        imports.read_sheet("模板.xlsx", imports.template_workbook(campaign))
    assert caught.value.code == "empty_sheet"  # headers recognized, no rows yet
