"""Console test helpers: a browser-like Flask client that signs in through the login form
and reads the CSRF token from the page, as a person's browser would."""

import re

import pytest

from campaign.accounts import create_account

PASSWORD = "console-password"
TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"|"X-CSRF-Token": "([0-9a-f]{64})"')


def csrf_of(html: str) -> str:
    match = TOKEN.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


class Browser:
    """A Flask test client with cookies, that keeps the last page's CSRF token."""

    def __init__(self, client):
        self.client = client
        self.csrf = None

    def get(self, path, **kwargs):
        response = self.client.get(path, **kwargs)
        if response.mimetype == "text/html":
            text = response.get_data(as_text=True)
            if TOKEN.search(text):
                self.csrf = csrf_of(text)
        return response

    def post(self, path, data=None, htmx=False, csrf=True, **kwargs):
        data = dict(data or {})
        headers = dict(kwargs.pop("headers", {}))
        if htmx:
            headers["HX-Request"] = "true"
            if csrf:
                headers["X-CSRF-Token"] = self.csrf
        elif csrf:
            data.setdefault("csrf_token", self.csrf)
        response = self.client.post(path, data=data, headers=headers, **kwargs)
        if response.mimetype == "text/html" and TOKEN.search(response.get_data(as_text=True)):
            self.csrf = csrf_of(response.get_data(as_text=True))
        return response

    def sign_in(self, username: str, password: str = PASSWORD):
        self.get("/console/login")
        response = self.post("/console/login", {"username": username, "password": password})
        if response.status_code == 303:
            self.get(response.location)
        return response


@pytest.fixture
def browser(app):
    return Browser(app.test_client())


@pytest.fixture
def make_account(open_window):
    def make(username: str, role: str = "organizer"):
        campaign = None if role == "admin" else open_window
        return create_account(username, PASSWORD, role, f"{username}姓名", campaign)

    return make


@pytest.fixture
def organizer_browser(browser, make_account):
    make_account("org1", "organizer")
    assert browser.sign_in("org1").status_code == 303
    return browser
