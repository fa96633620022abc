"""The public list and the objection form in a real browser, at a phone's size, as WeChat's
browser identifies itself (Debian's Chromium driven by Playwright)."""

import datetime
import os
from pathlib import Path

import pytest

from models import Objection

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI"
)


@pytest.fixture
def phone(chromium):
    """A phone-sized context of the session's one browser (two Playwright instances cannot
    share a thread)."""
    context = chromium.new_context(
        viewport={"width": 375, "height": 812}, user_agent=WECHAT_UA, device_scale_factor=2
    )
    yield context.new_page()
    context.close()


def test_the_list_reads_on_a_phone_and_takes_an_objection(seed, organizer, live_server, phone):
    for domain in ("rural", "urban", "soe"):
        seed.entry(domain=domain)
    seed.entry(track="brand", consent=False)
    today = datetime.datetime.now(datetime.UTC).date()
    published = organizer.post(
        "/api/v1/org/publications",
        json={"kind": "final", "starts_on": str(today - datetime.timedelta(days=1)),
              "ends_on": str(today + datetime.timedelta(days=10))},
    ).get_json()  # fmt: skip
    phone.goto(f"{live_server}/p/")
    assert phone.title() == published["title"]
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scroll
    assert phone.get_by_text("新时代党建品牌（1项）").is_visible()
    assert phone.get_by_text("名称不予公开").is_visible()
    assert phone.get_by_text("排名不分先后", exact=False).is_visible()
    shots = os.environ.get("SCREENSHOTS_DIR")  # regenerate docs/screenshots/ with this
    if shots:
        phone.screenshot(path=str(Path(shots) / "publication-list.png"), full_page=True)
    phone.get_by_text("在线提出异议").click()
    phone.fill("#item", "2")
    phone.fill("#name", "张三")
    phone.fill("#phone", "13900001111")
    phone.fill("#content", "第2项所述成效与实际不符")
    phone.get_by_role("button", name="提交异议").click()
    assert phone.get_by_text("异议已收到").first.is_visible()
    if shots:
        phone.goto(f"{live_server}/p/{published['id']}/objection")
        phone.screenshot(path=str(Path(shots) / "publication-objection.png"), full_page=True)
    assert Objection.get().name == "张三"
