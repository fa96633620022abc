"""Channels' codes made by jobs against the WeChat sandbox, stored, served, and zipped into kits."""

import io
import zipfile

import pytest
from rq import Retry

import tasks.qrcodes
from drawing import cjkfont
from models import Channel, ChannelAsset, KitArchive
from tasks.qrcodes import make_codes, retry_wechat_code
from tests.channel_fixtures import decode_qr, error_code
from tests.factories import Organizer

KINDS = {"poster_pdf", "poster_png", "link_png", "link_svg", "link_pdf", "wxa", "mp"}


@pytest.fixture
def org(client, campaign):
    return Organizer(client, campaign)


def codes_of(org, channel_id: int) -> dict:
    return org.get(f"/api/v1/org/channels/{channel_id}").get_json()["codes"]


def download(org, channel_id: int, kind: str):
    return org.get(f"/api/v1/org/channels/{channel_id}/codes/{kind}")


def create_calls(wechat) -> int:
    return sum(r["path"] == "/cgi-bin/qrcode/create" for r in wechat.state.requests())


def test_every_kind_is_made_stored_served_and_scans_back(org, wechat, settings, run_jobs):
    channel = org.department("中共宁德市委组织部", region="宁德市")["channels"][0]
    run_jobs()
    assert {
        kind for kind, c in codes_of(org, channel["id"]).items() if c["status"] == "ready"
    } == KINDS
    link = channel["link"]
    for kind, mime in (("link_png", "image/png"), ("poster_png", "image/png")):
        response = download(org, channel["id"], kind)
        assert response.mimetype == mime and "attachment" in response.headers["Content-Disposition"]
        assert decode_qr(response.data) == [link]
    assert download(org, channel["id"], "link_svg").data.startswith(b"<svg")
    for kind in ("link_pdf", "poster_pdf"):
        pdf = download(org, channel["id"], kind)
        assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    wxa = download(org, channel["id"], "wxa")
    assert wxa.mimetype == "image/jpeg"
    [content] = decode_qr(wxa.data)  # the sandbox draws the request into its code
    assert content == f"wxa:{settings.wxa.appid}:pages/index/index?scene=c={channel['code']}"
    asset = ChannelAsset.get(ChannelAsset.kind == "mp")
    assert asset.ticket and wechat.state.ticket(asset.ticket).scene == f"c={channel['code']}"
    assert decode_qr(download(org, channel["id"], "mp").data) == [asset.url]


def test_the_official_account_qr_is_created_once_ever(org, wechat, run_jobs):
    channel = org.department("龙岩市委组织部")["channels"][0]
    run_jobs()
    ticket = ChannelAsset.get(ChannelAsset.kind == "mp").ticket
    again = org.post(f"/api/v1/org/channels/{channel['id']}/codes", json={"force": True})
    assert again.status_code == 202
    run_jobs()
    assert create_calls(wechat) == 1
    assert ChannelAsset.get(ChannelAsset.kind == "mp").ticket == ticket
    usage = org.get("/api/v1/org/mp-qr-quota").get_json()
    assert (usage["used"], usage["remaining"], usage["warning"]) == (1, 99_999, None)


def test_the_budget_is_counted_and_warned_about(org, wechat, run_jobs, override_settings, campaign):
    override_settings(wechat_mp_qr_budget=10)
    for n in range(9):
        channel = Channel.create(campaign=campaign, route="online", code=f"used{n}abcde")
        ChannelAsset.create(channel=channel, kind="mp", ticket=f"t{n}", status="ready")
    assert "接近上限" in org.get("/api/v1/org/mp-qr-quota").get_json()["warning"]
    override_settings(wechat_mp_qr_budget=10)
    org.department("甲部门")
    third = org.department("乙部门")["channels"][0]
    run_jobs()
    assert create_calls(wechat) == 1
    mp = codes_of(org, third["id"])["mp"]
    assert mp["status"] == "failed" and "额度已用完" in mp["error"]
    usage = org.get("/api/v1/org/channels").get_json()["mp_qr"]
    assert usage["remaining"] == 0 and "已用完" in usage["warning"]


def test_a_busy_wechat_is_retried_for_that_code_only(org, wechat, run_jobs):
    channel = org.department("泉州市委组织部")["channels"][0]
    wechat.state.add_fault("/wxa/getwxacodeunlimit", errcode=-1)
    run_jobs()  # the batch job: everything but the mini-program code is done
    codes = codes_of(org, channel["id"])
    assert codes["wxa"]["status"] == "pending" and "自动重试" in codes["wxa"]["error"]
    assert codes["poster_png"]["status"] == codes["mp"]["status"] == "ready"
    busy = download(org, channel["id"], "wxa")
    assert busy.status_code == 409 and error_code(busy) == "code_not_ready"
    job = tasks.qrcodes.get_queue("default").scheduled_job_registry.get_job_ids()
    assert job == [f"qr-wxa-{channel['id']}"]  # retried later, with backoff
    assert retry_wechat_code(channel["id"], "wxa") == "ready"
    assert codes_of(org, channel["id"])["wxa"]["status"] == "ready"


def release_scheduled() -> int:
    """Put jobs scheduled for later into the queue now, as RQ's scheduler will in time."""
    registry = tasks.qrcodes.get_queue("default").scheduled_job_registry
    job_ids = registry.get_job_ids()
    for job_id in job_ids:
        registry.requeue(job_id)
    return len(job_ids)


def test_retries_that_run_out_are_recorded(org, wechat, run_jobs, monkeypatch):
    monkeypatch.setattr(tasks.qrcodes, "WECHAT_RETRY", Retry(max=1))
    channel = org.department("漳州市委组织部")["channels"][0]
    wechat.state.add_fault("/wxa/getwxacodeunlimit", errcode=-1, times=3)
    run_jobs()
    assert release_scheduled() == 1
    run_jobs(allow_failures=True)  # the retry job fails twice: once, and its one retry
    wxa = codes_of(org, channel["id"])["wxa"]
    assert wxa["status"] == "failed" and "多次重试" in wxa["error"]


def test_a_final_refusal_is_recorded_in_chinese(org, wechat, run_jobs):
    channel = org.department("南平市委组织部")["channels"][0]
    wechat.state.add_fault("/wxa/getwxacodeunlimit", errcode=45009)
    run_jobs()
    response = download(org, channel["id"], "wxa")
    assert response.status_code == 409
    assert "今日微信接口调用次数已达上限" in response.get_json()["error"]["message"]
    assert len(tasks.qrcodes.get_queue("default").scheduled_job_registry) == 0


def test_jobs_are_idempotent(org, wechat, run_jobs):
    channel = org.department("三明市委组织部")["channels"][0]
    run_jobs()
    keys = {a.kind: a.storage_key for a in ChannelAsset.select()}
    make_codes([channel["id"]])
    assert {a.kind: a.storage_key for a in ChannelAsset.select()} == keys
    make_codes([channel["id"]], force=True)
    changed = {a.kind: a.storage_key for a in ChannelAsset.select()}
    assert all(changed[kind] != keys[kind] for kind in KINDS)
    assert create_calls(wechat) == 1


@pytest.fixture
def no_cjk_font(monkeypatch):
    monkeypatch.setattr(cjkfont, "_candidates", lambda: [])
    for cached in (cjkfont.font_path, cjkfont.pillow_font, cjkfont.outlines):
        cached.cache_clear()
    yield
    monkeypatch.undo()
    for cached in (cjkfont.font_path, cjkfont.pillow_font, cjkfont.outlines):
        cached.cache_clear()


def test_without_a_chinese_font_posters_fail_with_a_clear_message(org, run_jobs, no_cjk_font):
    channel = org.department("福州市委组织部")["channels"][0]
    run_jobs()
    codes = codes_of(org, channel["id"])
    assert codes["poster_png"]["status"] == "failed"
    assert "没有可用的中文字体" in codes["poster_png"]["error"]
    assert "POSTER_FONT" in codes["poster_pdf"]["error"]
    assert codes["link_png"]["status"] == "ready"  # a plain code needs no font


def test_a_department_kit(org, run_jobs):
    detail = org.department("中共厦门市委组织部", region="厦门市")
    org.post("/api/v1/org/channels", json={"department_id": detail["id"], "label": "思明区/海报"})
    kit = org.post("/api/v1/org/kits", json={"department_id": detail["id"]})
    assert kit.status_code == 202 and kit.get_json()["status"] == "pending"
    early = org.get(f"/api/v1/org/kits/{kit.get_json()['id']}/file")
    assert error_code(early) == "kit_not_ready"
    run_jobs()
    done = org.get(f"/api/v1/org/kits/{kit.get_json()['id']}").get_json()
    assert (done["status"], done["done"], done["total"]) == ("ready", 1, 1)
    response = org.get(done["file"])
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    assert "使用说明.txt" in names and "绑定邀请二维码.png" in names
    poster = [n for n in names if n.endswith("海报.png")]
    assert len(poster) == 2 and any("思明区_海报" in n for n in poster)
    assert decode_qr(archive.read("绑定邀请二维码.png")) == [detail["invite_url"]]
    note = archive.read("使用说明.txt").decode()
    assert detail["invite_code"] in note and detail["channels"][0]["link"] in note


def test_all_departments_in_one_job_with_progress(org, run_jobs, wechat):
    for n in range(3):
        org.department(f"行业部门{n}", route="industry_dept")
    wechat.state.add_fault("/wxa/getwxacodeunlimit", errcode=41030, times=3)
    kit = org.post("/api/v1/org/kits", json={})
    run_jobs()
    archive_row = KitArchive.get_by_id(kit.get_json()["id"])
    assert (archive_row.status, archive_row.done, archive_row.total) == ("ready", 3, 3)
    archive = zipfile.ZipFile(io.BytesIO(org.get(f"/api/v1/org/kits/{archive_row.id}/file").data))
    manifest = archive.read("清单.csv").decode("utf-8-sig").splitlines()
    assert len(manifest) == 4 and manifest[0].startswith("部门,征集方式")
    assert all("小程序码.jpg" in line for line in manifest[1:])  # listed as missing, not fatal
    assert sum(n.endswith("海报-印刷版.pdf") for n in archive.namelist()) == 3
    assert all(n.startswith(("行业部门推荐/", "清单.csv")) for n in archive.namelist())


def test_kits_of_other_campaigns_and_bad_requests(org):
    assert org.get("/api/v1/org/kits/999").status_code == 404
    bad = org.post("/api/v1/org/kits", json={"department_id": 12345})
    assert bad.status_code == 422
    assert bad.get_json()["error"]["fields"][0]["code"] == "unknown_department"
    assert download(org, 999, "poster_png").status_code == 404
    channel = org.department("某部门")["channels"][0]
    codes_path = f"/api/v1/org/channels/{channel['id']}/codes"
    assert org.post(codes_path).status_code == 202  # no body: make what is missing
    assert error_code(org.post(codes_path, json=[1])) == "invalid_json"
    assert error_code(org.post(codes_path, json={"force": "yes"})) == "validation_failed"
    assert download(org, channel["id"], "no_such_kind").status_code == 404
