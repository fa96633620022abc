"""H5 test helpers: a phone's browser (Flask client with cookies) signed in through the
official account's web OAuth, played by the sandbox; the console's Playwright fixtures."""

from urllib.parse import urlparse

import pytest
import requests

from tests.channel_fixtures import WECHAT_UA
from tests.console.conftest import Browser


class Phone(Browser):
    """A WeChat browser: the console's cookie-and-CSRF client with WeChat's user agent."""

    def __init__(self, client):
        super().__init__(client)
        self.client.environ_base["HTTP_USER_AGENT"] = WECHAT_UA

    def sign_in(self, openid: str, code: str | None = None):
        """`/wechat/oauth/start` → the sandbox's consent → `/callback` → `/h5/home`."""
        start = self.client.get("/wechat/oauth/start" + (f"?c={code}" if code else ""))
        assert start.status_code == 302, start.get_data(as_text=True)
        consent = requests.get(
            start.headers["Location"],
            headers={"X-Sandbox-Openid": openid},
            allow_redirects=False,
            timeout=5,
        )
        assert consent.status_code == 302
        done = self.client.get(
            f"/wechat/oauth/callback?{urlparse(consent.headers['Location']).query}"
        )
        assert done.status_code == 302 and done.headers["Location"] == "/h5/home"
        home = self.get("/h5/home")
        assert home.status_code == 200
        return home


@pytest.fixture
def phone(app, wechat, open_window):
    return Phone(app.test_client())


@pytest.fixture
def other_phone(app, wechat, open_window):
    return Phone(app.test_client())


PHONE_VIEWPORT = {"width": 390, "height": 844}


@pytest.fixture
def phone_tabs(chromium, live_server, wechat, override_settings):
    """Open fresh WeChat-browser tabs at 390×844 (the console's `page`, on a phone), with or
    without JavaScript.

    The sandbox plays WeChat's OAuth consent page and sends the browser back to the public
    address, which is the live server for this test."""
    from tests.console.browser import Traffic

    override_settings(public_base_url=live_server)
    contexts = []

    def open_tab(javascript: bool = True, user_agent: str = WECHAT_UA):
        context = chromium.new_context(
            viewport=PHONE_VIEWPORT,
            device_scale_factor=1,
            is_mobile=True,
            has_touch=True,
            user_agent=user_agent,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            base_url=live_server,
            java_script_enabled=javascript,
        )
        contexts.append(context)
        context.set_default_timeout(15_000)
        tab = context.new_page()
        tab.traffic = Traffic(tab, live_server)
        tab.wechat_hosts = (urlparse(wechat.url).netloc,)  # the sandbox's consent page
        return tab

    yield open_tab
    for context in contexts:
        context.close()


@pytest.fixture
def phone_page(phone_tabs):
    return phone_tabs()
