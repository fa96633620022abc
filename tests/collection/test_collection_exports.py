"""Exports as jobs with progress: entries and units workbooks, one entry's PDF 报名表, an
evidence ZIP. No cell is ever a formula (the funnel export included), phones are whole only
for organizers with the PII right, and every file reads back with openpyxl."""

import io
import zipfile

import pytest
from openpyxl import load_workbook

from models import Account, Attachment, AuditLog, Department, Entry, ExportJob, Unit
from storage import get_storage
from tests.factories import Organizer

pytest_plugins = ("tests.collection.fixtures",)

HOSTILE = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rx"]


@pytest.fixture
def organizer(client, world):
    return Organizer(client, world.campaign)


def export(organizer, run_jobs, **body) -> tuple[dict, bytes]:
    started = organizer.post("/api/v1/org/exports", json=body)
    assert started.status_code == 202, started.get_json()
    job = started.get_json()
    assert job["status"] == "pending" and job["url"] is None
    run_jobs()
    done = organizer.get(f"/api/v1/org/exports/{job['id']}").get_json()
    assert done["status"] == "ready", done
    assert done["done"] == done["total"]
    response = organizer.get(done["url"])
    assert response.status_code == 200
    return done, response.data


def cells(data: bytes, sheet: str) -> list[list]:
    book = load_workbook(io.BytesIO(data))
    rows = book[sheet]
    for row in rows.iter_rows():
        for cell in row:
            assert cell.data_type != "f", f"{cell.coordinate} is a formula: {cell.value}"
    return [list(row) for row in rows.iter_rows(values_only=True)]


def test_the_entries_workbook_has_every_field_and_no_formula(world, organizer, run_jobs):
    entry = world.submitted(title=HOSTILE[0])
    Unit.update(name=HOSTILE[1], contact_name=HOSTILE[3]).execute()
    Department.update(name=HOSTILE[4]).execute()
    job, data = export(organizer, run_jobs, kind="entries")
    assert job["pii"] is False and job["total"] == 1
    header, row = cells(data, "案例")
    values = dict(zip(header, row, strict=True))
    assert values["编号"] == entry["id"]
    assert values["标题"] == "'" + HOSTILE[0]
    assert values["单位名称"] == "'+1+1" and values["联系人"] == "'@SUM(A1)"
    assert values["推荐单位"] == "'\tcmd"
    assert values["联系电话"] == "138****8000"
    assert values["状态"] == "已提交" and values["领域"] == "城市基层党建"
    assert (values["摘要字数"], values["正文字数"], values["佐证材料数"]) == (250, 3200, 1)
    assert values["背景"] == "党" * 800


def test_organizers_with_the_pii_right_get_whole_phones(world, organizer, run_jobs):
    world.submitted()
    Account.update(pii=True).execute()
    job, data = export(organizer, run_jobs, kind="units")
    assert job["pii"] is True
    header, row = cells(data, "单位")
    assert dict(zip(header, row, strict=True))["联系电话"] == "13800138000"
    requested = AuditLog.get(AuditLog.action == "export.request")
    assert requested.after["kind"] == "units" and requested.after["pii"] is True


def test_exports_follow_the_lists_filters_and_search(world, organizer, run_jobs):
    world.submitted(title="近邻党建激活社区治理")
    world.submitted(title="茶旅融合带富一方")
    _, data = export(
        organizer, run_jobs, kind="entries", q="茶旅融合", filters={"status": "submitted"}
    )
    rows = cells(data, "案例")
    assert [row[2] for row in rows[1:]] == ["茶旅融合带富一方"]


def test_one_entry_prints_as_a_pdf(world, organizer, run_jobs):
    entry = world.submitted()
    job, data = export(organizer, run_jobs, kind="entry_pdf", entry=entry["id"])
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") >= 2  # 3,450 字: pages
    assert job["params"] == {"entry": entry["id"]}


def test_evidence_of_a_filtered_set_as_a_zip(world, organizer, run_jobs):
    entry = world.submitted(title="有照片的案例")
    stored = get_storage().save(io.BytesIO(b"\x89PNG\r\n\x1a\nfake"), "png")
    Attachment.update(storage_key=stored.key, mime="image/png", original_name="照片.png").where(
        Attachment.entry == entry["id"]
    ).execute()
    Attachment.create(
        entry=entry["id"], kind="press", link="https://news.example.cn/a", original_name="报道"
    )
    other = world.submitted(title="别的案例")
    Entry.update(status="returned").where(Entry.id == other["id"]).execute()
    _, data = export(organizer, run_jobs, kind="evidence_zip", filters={"status": "submitted"})
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    photo = [n for n in names if n.endswith("照片.png")]
    assert photo and photo[0].startswith(f"{entry['id']}-有照片的案例/")
    assert archive.read(photo[0]) == b"\x89PNG\r\n\x1a\nfake"
    listing = cells(archive.read("清单.xlsx"), "佐证材料")
    assert [row[2] for row in listing[1:]] == ["photo", "press"]
    assert listing[2][5] == "https://news.example.cn/a"


def test_bad_requests_list_every_problem(organizer):
    response = organizer.post(
        "/api/v1/org/exports", json={"kind": "entry_pdf", "entry": 10**12, "filters": []}
    )
    assert response.status_code == 422
    assert {f["field"] for f in response.get_json()["error"]["fields"]} == {"entry", "filters"}
    bad = organizer.post("/api/v1/org/exports", json={"kind": "units", "filters": {"status": "x"}})
    assert [f["field"] for f in bad.get_json()["error"]["fields"]] == ["filters.status"]
    assert ExportJob.select().count() == 0


def test_a_file_not_ready_is_409(world, organizer):
    job = organizer.post("/api/v1/org/exports", json={"kind": "units"}).get_json()
    response = organizer.get(f"/api/v1/org/exports/{job['id']}/file")
    assert response.status_code == 409


def test_the_funnel_export_keeps_department_names_as_text(client, world, organizer):
    for name in HOSTILE[:4]:
        organizer.department(name)
    response = organizer.get("/api/v1/org/funnel/export.xlsx")
    assert response.status_code == 200
    rows = cells(response.data, "推荐单位")
    names = {row[0] for row in rows[1:]}
    assert {"'" + name for name in HOSTILE[:4]} <= names


def test_the_pii_right_is_granted_from_the_command_line(app, organizer):
    runner = app.test_cli_runner()
    granted = runner.invoke(args=["accounts", "pii", organizer.account.username])
    assert granted.exit_code == 0, granted.output
    assert Account.get_by_id(organizer.account.id).pii is True
    log = AuditLog.get(AuditLog.action == "account.pii")
    assert (log.before, log.after) == ({"pii": False}, {"pii": True})
    revoked = runner.invoke(args=["accounts", "pii", "--revoke", organizer.account.username])
    assert revoked.exit_code == 0 and Account.get_by_id(organizer.account.id).pii is False
    assert runner.invoke(args=["accounts", "pii", "nobody"]).exit_code != 0
