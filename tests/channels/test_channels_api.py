"""Organizers' departments and channels: create, change, import from a sheet, and who may."""

import io

import pytest
from openpyxl import Workbook, load_workbook

from campaign.sessions import issue_token
from models import AuditLog, Channel, Department, DepartmentMember, WechatUser
from tests.channel_fixtures import error_code
from tests.factories import Organizer

DEPARTMENTS = "/api/v1/org/departments"


@pytest.fixture
def org(client, campaign):
    return Organizer(client, campaign)


def test_a_department_gets_an_invite_code_and_a_first_channel(org, settings):
    detail = org.department("中共福州市委组织部", region="福州市", contact_phone="(0591)87808286")
    assert detail["route"] == "org_dept" and detail["contact_phone"] == "0591-87808286"
    assert len(detail["invite_code"]) == 12
    assert detail["invite_url"] == f"{settings.public_base_url}/q/i/{detail['invite_code']}"
    [channel] = detail["channels"]
    assert channel["label"] == "中共福州市委组织部" and len(channel["code"]) == 10
    assert channel["link"] == f"{settings.public_base_url}/q/{channel['code']}"
    assert {c["status"] for c in channel["codes"].values()} == {"pending"}
    assert AuditLog.select().where(AuditLog.action == "department.create").count() == 1


def test_every_problem_is_listed_at_once(org):
    org.department("已有单位")
    response = org.post(
        DEPARTMENTS,
        json={"name": "已有单位", "route": "online", "region": "火星", "contact_phone": "123"},
    )
    assert response.status_code == 422
    problems = {(f["field"], f["code"]) for f in response.get_json()["error"]["fields"]}
    assert problems == {
        ("name", "name_taken"),
        ("route", "invalid_route"),
        ("region", "invalid_choice"),
        ("contact_phone", "invalid_phone"),
    }
    assert all(f["message"] for f in response.get_json()["error"]["fields"])


def test_parents_must_exist_and_never_loop(org):
    top = org.department("省委组织部")
    child = org.department("市委组织部", parent_id=top["id"])
    assert child["parent_id"] == top["id"]
    loop = org.patch(f"{DEPARTMENTS}/{top['id']}", json={"parent_id": child["id"]})
    assert loop.status_code == 422
    assert loop.get_json()["error"]["fields"][0]["code"] == "parent_cycle"
    unknown = org.post(DEPARTMENTS, json={"name": "x", "route": "org_dept", "parent_id": 999})
    assert unknown.get_json()["error"]["fields"][0]["code"] == "unknown_parent"


def test_the_route_is_locked_once_someone_came_in(org, campaign):
    detail = org.department("省国资委", route="industry_dept")
    free = org.patch(f"{DEPARTMENTS}/{detail['id']}", json={"route": "party_school"})
    assert free.status_code == 200
    assert Channel.get_by_id(detail["channels"][0]["id"]).route == "party_school"
    from campaign.attribution import attribute

    attribute(campaign, WechatUser.create(app="mp", openid="o-in"), Channel.get())
    locked = org.patch(f"{DEPARTMENTS}/{detail['id']}", json={"route": "org_dept"})
    assert locked.status_code == 409 and error_code(locked) == "route_locked"


def test_channels_for_departments_and_for_the_open_route(org):
    detail = org.department("省教育工委", route="party_school")
    poster = org.post(
        "/api/v1/org/channels", json={"department_id": detail["id"], "label": "海报二"}
    )
    assert poster.status_code == 201
    assert poster.get_json()["route"] == "party_school"
    public = org.post("/api/v1/org/channels", json={"label": "人民网首页横幅"})
    assert public.status_code == 201
    assert public.get_json()["route"] == "online" and public.get_json()["department_id"] is None
    listed = org.get(f"/api/v1/org/channels?department_id={detail['id']}").get_json()
    assert {c["label"] for c in listed["items"]} == {"省教育工委", "海报二"}
    assert listed["mp_qr"]["budget"] == 100_000
    off = org.patch(f"/api/v1/org/channels/{public.get_json()['id']}", json={"active": False})
    assert off.get_json()["active"] is False
    bad = org.post("/api/v1/org/channels", json={"department_id": "x", "label": ""})
    assert {f["field"] for f in bad.get_json()["error"]["fields"]} == {"label", "department_id"}


def test_rotating_the_invite_code_stops_the_old_one(org, client):
    detail = org.department("厦门市委组织部", region="厦门市")
    user = WechatUser.create(app="wxa", openid="o-dept")
    token, _ = issue_token(user)
    headers = {"Authorization": f"Bearer {token}"}
    rotated = org.post(f"{DEPARTMENTS}/{detail['id']}/invite").get_json()
    assert rotated["invite_code"] != detail["invite_code"]
    old = client.post(
        "/api/v1/dept/bind", json={"invite_code": detail["invite_code"]}, headers=headers
    )
    assert old.status_code == 404
    new = client.post(
        "/api/v1/dept/bind", json={"invite_code": rotated["invite_code"]}, headers=headers
    )
    assert new.status_code == 200
    assert org.get(f"{DEPARTMENTS}/{detail['id']}").get_json()["members"][0]["user_id"] == user.id
    assert DepartmentMember.select().count() == 1


def test_only_organizers_may(client, campaign, org):
    detail = org.department("莆田市委组织部")
    user_token, _ = issue_token(WechatUser.create(app="wxa", openid="o-unit"))
    for path in (DEPARTMENTS, f"{DEPARTMENTS}/{detail['id']}", "/api/v1/org/funnel"):
        assert client.get(path).status_code == 401
        as_unit = client.get(path, headers={"Authorization": f"Bearer {user_token}"})
        assert as_unit.status_code == 401  # a WeChat token is not a console token
    expert = Organizer(client, campaign, "expert-ch")
    expert.account.role = "expert"
    expert.account.save()
    assert expert.get(DEPARTMENTS).status_code == 403


# --- import ----------------------------------------------------------------------------------


def xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(org, content: bytes, name: str, query: str = ""):
    return org.post(
        f"{DEPARTMENTS}/import{query}",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


HEADER = ["名称", "征集方式", "地区", "上级单位", "联系人", "联系电话"]


def test_a_sheet_is_imported_whole_with_parents_by_name(org):
    content = xlsx(
        [
            HEADER,
            ["中共三明市委组织部", "组织部门推荐", "三明市", "", "李四", 13800138000],
            ["三明市委党校", "党校系统", "三明市", "中共三明市委组织部", "", ""],
            [None, None, None, None, None, None],
            ["三明市国资委", "industry_dept", "三明市", "", "", "0598-8221234"],
        ]
    )
    assert upload(org, content, "单位.xlsx", "?dry_run=1").get_json()["would_create"] == 3
    assert Department.select().count() == 0
    response = upload(org, content, "单位.xlsx")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["created"] == 3
    school = Department.get(Department.name == "三明市委党校")
    assert school.route == "party_school" and school.parent.name == "中共三明市委组织部"
    assert Department.get(Department.name == "中共三明市委组织部").contact_phone == "13800138000"
    assert Channel.select().count() == 3
    again = upload(org, content, "单位.xlsx")
    assert again.status_code == 201 and again.get_json()["created"] == 0
    assert [s["row"] for s in again.get_json()["skipped"]] == [2, 3, 5]


def test_a_bad_sheet_imports_nothing_and_names_every_row(org):
    org.department("已存在的单位", route="org_dept")
    content = xlsx(
        [
            ["部门名称", "类别", "所属地区", "上级", "联系人", "电话"],
            ["好单位", "组织部门推荐", "福州市", "", "", ""],
            ["", "组织部门推荐", "", "", "", ""],
            ["坏渠道", "网络征集", "", "", "", ""],
            ["好单位", "行业部门推荐", "", "", "", ""],
            ["已存在的单位", "党校系统推荐", "", "", "", ""],
            ["孤儿", "组织部门推荐", "", "不存在的上级", "", ""],
            ["甲", "组织部门推荐", "", "乙", "", ""],
            ["乙", "组织部门推荐", "", "甲", "", "abc"],
        ]
    )
    response = upload(org, content, "sheet.xlsx")
    assert response.status_code == 422
    body = response.get_json()["error"]
    assert body["code"] == "import_failed" and "未导入" in body["message"]
    assert {(f["row"], f["field"], f["code"]) for f in body["fields"]} == {
        (3, "name", "required"),
        (4, "route", "invalid_route"),
        (5, "name", "duplicate_in_sheet"),
        (6, "name", "name_taken"),
        (7, "parent", "unknown_parent"),
        (8, "parent", "parent_cycle"),
        (9, "parent", "parent_cycle"),
        (9, "contact_phone", "invalid_phone"),
    }
    assert Department.select().count() == 1


def test_gbk_csv_from_chinese_excel(org):
    text = "名称,征集方式,地区\n南平市委组织部,组织部门推荐,南平市\n"
    response = upload(org, text.encode("gb18030"), "单位.csv")
    assert response.status_code == 201, response.get_json()
    assert Department.get().name == "南平市委组织部"


@pytest.mark.parametrize(
    ("content", "name", "status", "code"),
    [
        (b"\xd0\xcf\x11\xe0old excel", "a.xls", 415, "unsupported_file_type"),
        (b"PK\x03\x04 not really a zip", "a.xlsx", 422, "unreadable_file"),
        ("地区,联系人\n福州市,张三\n".encode(), "a.csv", 422, "missing_columns"),
        (b"", "a.csv", 422, "empty_sheet"),
        (b"%PDF-1.4", "a.pdf", 415, "unsupported_file_type"),
    ],
)
def test_unusable_files_are_refused_clearly(org, content, name, status, code):
    response = upload(org, content, name)
    assert (response.status_code, error_code(response)) == (status, code)


def test_no_file_and_the_template(org):
    response = org.post(f"{DEPARTMENTS}/import", data={}, content_type="multipart/form-data")
    assert error_code(response) == "file_required"
    template = org.get(f"{DEPARTMENTS}/import-template")
    assert template.status_code == 200
    book = load_workbook(io.BytesIO(template.data))
    assert [c.value for c in book.worksheets[0][1]] == HEADER
    assert upload(org, template.data, "模板.xlsx").get_json()["error"]["code"] == "empty_sheet"
