"""The mailroom scan page and the exchange pages with their door scan, through Flask's client
and in Chromium: a USB scanner's keystrokes, the checklist, the door's force override, the
offline queue, and the camera decoding a QR code with the vendored jsQR."""

import io
import os
import re
import uuid

import pytest

from campaign.mailin import rules as mailin_rules
from campaign.redeem import exchange
from models import Attendee, AuditLog, ExchangeSession, MailIn, Redemption
from tests.console.browser import missing_reason
from tests.mailin.winners import make_winner
from tests.redeem.redeem_fixtures import person, session_of, ticket, winner


def nonce() -> str:
    return uuid.uuid4().hex


def package(campaign, title="“红色驿站”近邻服务品牌") -> MailIn:
    entry = make_winner(campaign, award="brand", title=title)
    mailin_rules.ensure_mailins(campaign)
    return MailIn.get(MailIn.entry == entry)


def scan(browser, path, code, **fields):
    body = {"code": code, "nonce": fields.pop("nonce", None) or nonce(), **fields}
    response = browser.client.post(
        path, json=body, headers={"X-CSRF-Token": browser.csrf, "Accept": "application/json"}
    )
    return response.status_code, response.get_json()


# --- Flask client: the mailroom ------------------------------------------------------------


def test_the_scan_page_loads_its_scripts_and_a_labelled_input(organizer_browser):
    page = organizer_browser.get("/console/mailroom/scan")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "vendor/jsqr-1.4.0/jsQR.js" in html and "console/scanner.js" in html
    assert 'for="scan-code"' in html and 'data-kind="mailin"' in html
    assert organizer_browser.get("/console/static/console/scanner.js").status_code == 200


def test_a_cover_scan_is_received_once_and_answers_who_came_first(organizer_browser, open_window):
    row = package(open_window)
    organizer_browser.get("/console/mailroom/scan")
    first_nonce = nonce()
    status, first = scan(
        organizer_browser, "/console/mailroom/scan", row.short_code, nonce=first_nonce
    )
    assert status == 200 and first["status"] == "redeemed" and first["kind"] == "mailin"
    assert first["object_id"] == row.id
    assert MailIn.get_by_id(row.id).status == "received"
    _, replay = scan(organizer_browser, "/console/mailroom/scan", row.token, nonce=first_nonce)
    assert replay["redemption"]["id"] == first["redemption"]["id"]  # same nonce, same answer
    _, again = scan(organizer_browser, "/console/mailroom/scan", row.short_code.lower())
    assert again["status"] == "already_redeemed"
    assert again["first"]["by_name"] == "org1姓名" and "签收" in again["message"]
    assert Redemption.select().count() == 1


def test_unknown_codes_tickets_and_a_missing_token_are_refused_in_chinese(
    organizer_browser, open_window
):
    attendee = ticket(open_window)
    organizer_browser.get("/console/mailroom/scan")
    _, unknown = scan(organizer_browser, "/console/mailroom/scan", "NOPE-NOPE")
    assert unknown["error"]["code"] == "unknown_code" and "无法识别" in unknown["error"]["message"]
    _, misplaced = scan(organizer_browser, "/console/mailroom/scan", attendee.ticket_code)
    assert misplaced["error"]["code"] == "not_a_cover"
    assert Redemption.select().count() == 0  # the mailroom never checks anyone in
    status, bad = scan(organizer_browser, "/console/mailroom/scan", "", datetime="昨天")
    assert status == 422 and {f["field"] for f in bad["error"]["fields"]} == {"code", "datetime"}
    refused = organizer_browser.client.post(
        "/console/mailroom/scan",
        json={"code": "x", "nonce": nonce()},
        headers={"Accept": "application/json"},
    )
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "csrf_failed"


def test_a_batch_replayed_twice_counts_each_scan_once(organizer_browser, open_window):
    rows = [package(open_window, title=f"案例{n}") for n in range(3)]
    organizer_browser.get("/console/mailroom/scan")
    scans = [{"code": r.short_code, "nonce": nonce(), "datetime": "2026-12-01T09:00"} for r in rows]
    scans.append({"code": "bad", "nonce": ""})
    for _ in range(2):
        response = organizer_browser.client.post(
            "/console/mailroom/scan/batch",
            json={"scans": scans},
            headers={"X-CSRF-Token": organizer_browser.csrf},
        )
        results = response.get_json()["results"]
        assert [r["status"] for r in results] == ["redeemed"] * 3 + ["error"]
    assert Redemption.select().count() == 3
    first = Redemption.select().first()
    assert first.scanned_at.strftime("%H:%M") == "01:00"  # 09:00 Beijing, the scan's own time


def test_the_checklist_goes_incomplete_then_complete(organizer_browser, open_window):
    row = package(open_window)
    path = f"/console/mailroom/{row.id}/checklist"
    organizer_browser.get(f"/console/mailroom/{row.id}")
    early = organizer_browser.post(path, {"item": "stamped_form"}, htmx=True)
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "not_received"
    mailin_rules.mark_received(row.id, "test")
    ticked = organizer_browser.post(
        path, {"item": ["stamped_form", "photos"], "action": "complete"}, htmx=True
    )
    assert ticked.status_code == 409
    assert ticked.get_json()["error"]["code"] == "required_missing"
    short = organizer_browser.post(
        path, {"item": ["stamped_form", "photos"], "action": "incomplete", "note": "缺文字材料"},
        htmx=True,
    )  # fmt: skip
    assert short.status_code == 200 and "材料不全" in short.get_data(as_text=True)
    fresh = MailIn.get_by_id(row.id)
    assert fresh.status == "incomplete" and fresh.missing == ["text", "video", "press"]
    done = organizer_browser.post(
        path, {"item": ["stamped_form", "text"], "action": "complete"}, htmx=True
    )
    assert done.status_code == 200 and "材料齐全" in done.get_data(as_text=True)
    assert MailIn.get_by_id(row.id).status == "complete"
    assert AuditLog.select().where(AuditLog.action == "mailin.complete").count() == 1


def test_the_mailroom_list_filters_paginates_and_exports(organizer_browser, open_window):
    rows = [package(open_window, title=f"案例{n:02d}") for n in range(23)]
    mailin_rules.mark_received(rows[0].id, "test")
    page = organizer_browser.get("/console/mailroom").get_data(as_text=True)
    assert "共 23 条，第 1/2 页" in page and re.search(
        r'已签收 <span class="mailin-count-received">1<', page
    )
    received = organizer_browser.get("/console/mailroom?status=received").get_data(as_text=True)
    assert "共 1 条" in received
    export = organizer_browser.get("/console/mailroom/export.xlsx")
    assert export.status_code == 200 and export.mimetype.endswith("spreadsheetml.sheet")


# --- Flask client: the exchange --------------------------------------------------------------


def test_sessions_are_created_edited_and_refused_in_chinese(organizer_browser, open_window):
    organizer_browser.get("/console/exchange")
    bad = organizer_browser.post(
        "/console/exchange/sessions", {"title": "", "starts_at": "x", "capacity": "0"}, htmx=True
    )
    assert bad.status_code == 422
    assert {f["field"] for f in bad.get_json()["error"]["fields"]} == {
        "title", "starts_at", "capacity"
    }  # fmt: skip
    made = organizer_browser.post(
        "/console/exchange/sessions",
        {
            "title": "福州专场",
            "place": "会议中心",
            "starts_at": "2030-12-20T09:00",
            "capacity": "2",
        },
        htmx=True,
    )
    assert made.status_code == 204
    session = ExchangeSession.get()
    assert made.headers["HX-Redirect"] == f"/console/exchange/{session.id}"
    assert session.starts_at.strftime("%Y-%m-%d %H:%M") == "2030-12-20 01:00"
    page = organizer_browser.get(f"/console/exchange/{session.id}").get_data(as_text=True)
    assert "2030-12-20 09:00" in page  # shown in Asia/Shanghai
    edited = organizer_browser.post(
        f"/console/exchange/{session.id}",
        {"title": "福州专场（改）", "starts_at": "2030-12-20T10:00", "capacity": "3",
         "seats_per_unit": "2", "place": ""},
        htmx=True,
    )  # fmt: skip
    assert edited.status_code == 204
    session = ExchangeSession.get_by_id(session.id)
    assert (session.title, session.capacity, session.place) == ("福州专场（改）", 3, "")
    assert session.registration_open is False  # the box was not ticked


def test_registration_waits_when_full_and_a_cancellation_seats_the_next(
    organizer_browser, open_window
):
    session = session_of(open_window, capacity=1, seats_per_unit=2)
    unit, _ = winner(open_window)
    loser, _ = winner(open_window, name="未获奖单位", openid="o-loser", award=False)
    organizer_browser.get(f"/console/exchange/{session.id}")
    path = f"/console/exchange/{session.id}/attendees"
    for number in (1, 2):
        done = organizer_browser.post(path, {"unit": unit.id, **person(number)}, htmx=True)
        assert done.status_code == 204
    third = organizer_browser.post(path, {"unit": unit.id, **person(3)}, htmx=True)
    assert third.get_json()["error"]["code"] == "unit_seats_full"
    refused = organizer_browser.post(path, {"unit": loser.id, **person(4)}, htmx=True)
    assert refused.get_json()["error"]["message"] == "仅获奖单位可报名线下交流"
    first, second = Attendee.select().order_by(Attendee.id)
    assert (first.status, second.status) == ("registered", "waiting")
    page = organizer_browser.get(f"/console/exchange/{session.id}").get_data(as_text=True)
    assert "候补" in page and "138****0001" in page and "13800000001" not in page
    cancelled = organizer_browser.post(f"/console/exchange/attendees/{first.id}/cancel", htmx=True)
    assert cancelled.status_code == 204
    assert Attendee.get_by_id(second.id).status == "registered"


def test_badges_and_attendance_download(organizer_browser, open_window):
    attendee = ticket(open_window)
    sid = attendee.session_id
    badges = organizer_browser.get(f"/console/exchange/{sid}/badges.pdf")
    assert badges.status_code == 200 and badges.data.startswith(b"%PDF")
    sheet = organizer_browser.get(f"/console/exchange/{sid}/attendance.xlsx")
    assert sheet.status_code == 200 and sheet.data.startswith(b"PK")
    assert organizer_browser.get("/console/exchange/999999/badges.pdf").status_code == 404


def test_the_door_checks_in_once_refuses_other_sessions_and_forces_with_an_audit(
    organizer_browser, open_window
):
    attendee = ticket(open_window)
    other = ticket(open_window, unit=attendee.unit, session=session_of(open_window, title="厦门场"))
    door = f"/console/exchange/{attendee.session_id}/door/scan"
    organizer_browser.get(f"/console/exchange/{attendee.session_id}/door")
    _, first = scan(organizer_browser, door, f"https://example.test/tickets/{attendee.ticket_code}")
    assert first["status"] == "redeemed" and first["object"]["name"] == attendee.name
    _, again = scan(organizer_browser, door, attendee.ticket_code)
    assert again["status"] == "already_redeemed" and "签到" in again["message"]
    _, forced = scan(organizer_browser, door, attendee.ticket_code, force=True)
    assert forced["status"] == "redeemed" and forced["redemption"]["forced"] is True
    assert AuditLog.select().where(AuditLog.action == "redeem.force").count() == 1
    _, elsewhere = scan(organizer_browser, door, other.ticket_code)
    assert (
        elsewhere["error"]["code"] == "other_session" and "厦门场" in elsewhere["error"]["message"]
    )
    _, cover = scan(organizer_browser, door, package(open_window).short_code)
    assert cover["error"]["code"] == "not_a_ticket"
    assert Redemption.select().count() == 2  # the first and the forced one
    assert exchange.check_ins([attendee.id, other.id]).keys() == {attendee.id}


# --- Chromium ------------------------------------------------------------------------------

browser_only = pytest.mark.skipif(
    bool(missing_reason()) and os.environ.get("REQUIRE_BROWSER") != "1",
    reason=missing_reason() or "",
)


def sign_in(page, username="org1"):
    page.goto("/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("console-password")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/console/")


def scanner_types(page, code: str):
    """What a USB scanner does: keystrokes into the focused input, then Enter."""
    page.locator("#scan-code").focus()
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def expect_clean(page):
    from tests.console.browser import unlabelled

    assert page.traffic.foreign() == []
    assert page.traffic.csp_violations() == []
    assert unlabelled(page) == []


@pytest.mark.browser
@browser_only
def test_browser_mailroom_scanner_then_checklist(page, open_window, make_account):
    from playwright.sync_api import expect

    row = package(open_window)
    make_account("org1")
    sign_in(page)
    page.get_by_role("link", name="材料寄送").click()
    page.get_by_role("link", name="收件扫描").click()
    expect(page.get_by_role("heading", name="收件扫描")).to_be_visible()
    result = page.locator("[data-scan-result]")
    scanner_types(page, f"{row.short_code[:4]}-{row.short_code[4:]}".lower())
    expect(result).to_contain_text("签收成功")
    expect(result).to_contain_text("红色驿站")
    panel = page.locator("#mailin-panel")
    expect(panel.locator(".mailin-status")).to_have_text("已签收")
    scanner_types(page, row.token)  # the cover QR, read by the USB scanner
    expect(result).to_contain_text("已登记")
    expect(result).to_contain_text("首次：")
    expect(result).to_contain_text("org1姓名")
    expect(page.locator("#scan-code")).to_be_focused()  # ready for the next package

    panel.get_by_label("报名表（登记表）加盖单位公章").check()
    panel.get_by_label("备注（如缺少什么、何时补寄）").fill("文字材料未盖章")
    panel.get_by_role("button", name="标记材料不全").click()
    expect(panel.locator(".mailin-status")).to_have_text("材料不全")
    expect(panel).to_contain_text("缺少：文字材料加盖单位公章")
    panel.get_by_label("文字材料加盖单位公章").check()
    panel.get_by_role("button", name="标记材料齐全").click()
    expect(panel.locator(".mailin-status")).to_have_text("材料齐全")
    expect(page.locator("#scan-code")).to_be_focused()  # the next package can be scanned
    assert MailIn.get_by_id(row.id).status == "complete"
    assert Redemption.select().count() == 1
    expect_clean(page)


@pytest.mark.browser
@browser_only
def test_browser_a_code_scanned_before_the_script_bound_the_form_is_taken_once(
    page, open_window, make_account
):
    """A USB scanner can type and press Enter before the deferred script binds the form: the
    browser then submits it itself, and the page comes back with ?code=…. The script takes
    that code as a scan and drops it from the address, so a reload does not scan it again."""
    from playwright.sync_api import expect

    row = package(open_window)
    make_account("org1")
    sign_in(page)
    page.goto(f"/console/mailroom/scan?code={row.short_code}")
    result = page.locator("[data-scan-result]")
    expect(result).to_contain_text("签收成功")
    expect(result).to_contain_text("红色驿站")
    assert "code=" not in page.url
    page.reload()
    expect(page.get_by_role("heading", name="收件扫描")).to_be_visible()
    page.wait_for_load_state("networkidle")
    expect(result).to_have_text("")
    assert Redemption.select().count() == 1
    assert MailIn.get_by_id(row.id).status == "received"
    expect_clean(page)


@pytest.mark.browser
@browser_only
def test_browser_door_scan_again_and_force(page, open_window, make_account):
    from playwright.sync_api import expect

    attendee = ticket(open_window)
    make_account("org1")
    sign_in(page)
    page.get_by_role("link", name="线下交流").click()
    expect_clean(page)  # the session list and its create form: every input labelled
    page.get_by_role("link", name=attendee.session.title).click()
    expect(page.locator("tbody")).to_contain_text(attendee.name)
    expect_clean(page)
    page.get_by_role("link", name="入场扫描").click()
    expect(page.get_by_role("heading", name=re.compile("入场扫描"))).to_be_visible()
    result = page.locator("[data-scan-result]")
    scanner_types(page, attendee.ticket_code)
    expect(result).to_contain_text("签到成功")
    expect(result).to_contain_text(attendee.name)
    scanner_types(page, attendee.ticket_code)
    expect(result).to_contain_text("已签到")
    expect(result).to_contain_text("首次：")
    page.get_by_role("button", name="强制放行…").click()
    expect(page.get_by_text("确认强制放行？此操作将记入操作日志。")).to_be_visible()
    page.get_by_role("button", name="确认强制放行").click()
    expect(result).to_contain_text("签到成功（强制放行，已记入日志）")
    assert AuditLog.select().where(AuditLog.action == "redeem.force").count() == 1
    assert Redemption.select().where(Redemption.forced == True).count() == 1  # noqa: E712
    expect_clean(page)


@pytest.mark.browser
@browser_only
def test_browser_offline_scans_are_queued_and_settled_once(page, open_window, make_account):
    from playwright.sync_api import expect

    rows = [package(open_window, title=f"离线案例{n}") for n in range(2)]
    make_account("org1")
    sign_in(page)
    page.goto("/console/mailroom/scan")
    queue = page.locator("[data-scan-queue]")
    page.context.set_offline(True)
    for row in rows:
        scanner_types(page, row.short_code)
        expect(page.locator("[data-scan-result]")).to_contain_text("网络中断")
    expect(queue).to_have_attribute("data-count", "2")
    expect(queue).to_contain_text("待上传 2 条离线扫码")
    assert Redemption.select().count() == 0
    page.context.set_offline(False)  # the `online` event sends the batch
    expect(queue).to_be_hidden()
    log = page.locator("[data-scan-log] li")
    expect(log.filter(has_text="离线补传")).to_have_count(2)
    expect(log.filter(has_text="签收成功")).to_have_count(2)
    assert page.evaluate("localStorage.getItem('console-scan-queue:mailin')") == "[]"
    assert Redemption.select().count() == 2
    assert {MailIn.get_by_id(r.id).status for r in rows} == {"received"}
    page.reload()  # nothing left to send again
    expect(queue).to_be_hidden()
    assert Redemption.select().count() == 2
    expect_clean(page)


def qr_png(text: str) -> bytes:
    import qrcode

    out = io.BytesIO()
    qrcode.make(text, box_size=8, border=4).save(out, "PNG")
    return out.getvalue()


@pytest.mark.browser
@browser_only
def test_browser_a_photo_of_the_cover_qr_is_decoded_by_jsqr(page, open_window, make_account):
    from playwright.sync_api import expect

    row = package(open_window)
    make_account("org1")
    sign_in(page)
    page.goto("/console/mailroom/scan")
    assert page.evaluate("typeof jsQR") == "function"
    page.locator("#scan-image").set_input_files(
        files=[{"name": "cover.png", "mimeType": "image/png", "buffer": qr_png(row.token)}]
    )
    expect(page.locator("[data-scan-result]")).to_contain_text("签收成功")
    assert MailIn.get_by_id(row.id).status == "received"
    expect_clean(page)


def y4m(png: bytes, frames: int = 4) -> bytes:
    """A tiny Y4M video (4:2:0) of one still image: Chromium's fake camera plays it in a loop."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = (image.width + 1) // 2 * 2, (image.height + 1) // 2 * 2
    canvas = Image.new("RGB", (width, height), "white")
    canvas.paste(image, (0, 0))
    y, u, v = canvas.convert("YCbCr").split()
    half = (width // 2, height // 2)
    frame = b"FRAME\n" + y.tobytes() + u.resize(half).tobytes() + v.resize(half).tobytes()
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    return header + frame * frames


@pytest.mark.browser
@browser_only
def test_browser_camera_mode_reads_a_ticket_from_a_fake_camera(
    chromium, live_server, open_window, make_account, tmp_path
):
    """Chromium's fake capture device plays a Y4M of the ticket's QR code: the camera mode
    decodes the frames with jsQR and checks the attendee in, with no real camera."""
    from playwright.sync_api import expect

    from tests.console.browser import ARGS, CHROMIUM, VIEWPORT, Traffic

    attendee = ticket(open_window)
    video = tmp_path / "ticket.y4m"
    video.write_bytes(y4m(qr_png(attendee.ticket_code)))
    args = [
        *ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    camera_browser = chromium.browser_type.launch(executable_path=CHROMIUM, args=args)
    try:
        context = camera_browser.new_context(
            viewport=VIEWPORT, locale="zh-CN", base_url=live_server, permissions=["camera"]
        )
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.traffic = Traffic(page, live_server)
        make_account("org1")
        sign_in(page)
        page.goto(f"/console/exchange/{attendee.session_id}/door")
        page.get_by_role("button", name="打开摄像头扫码").click()
        expect(page.locator("[data-scan-result]")).to_contain_text("签到成功")
        page.get_by_role("button", name="关闭摄像头").click()
        assert exchange.check_ins([attendee.id]).keys() == {attendee.id}
        assert Redemption.select().count() == 1  # the same QR in every frame counts once
        assert page.traffic.foreign() == [] and page.traffic.csp_violations() == []
    finally:
        camera_browser.close()
