"""Console sign-in with the cookie session: cookie flags, CSRF, CSP, idle and absolute
expiry, logout and sign out everywhere (pages.websession)."""

from campaign.sessions import account_of, issue_token, live_session
from models import AuthSession
from pages import websession
from tasks.queue import redis_connection


def session_cookie(browser):
    return browser.client.get_cookie("console_session", path="/console")


def test_sign_in_sets_an_httponly_lax_cookie_and_lands_on_the_dashboard(browser, make_account):
    make_account("org1")
    browser.get("/console/login")
    response = browser.post("/console/login", {"username": "org1", "password": "console-password"})
    assert response.status_code == 303 and response.location == "/console/"
    header = [h for h in response.headers.getlist("Set-Cookie") if "console_session" in h][0]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/console" in header
    assert "Secure" not in header  # development; production sets it (test below)
    page = browser.get("/console/")
    assert page.status_code == 200 and "征集漏斗" in page.get_data(as_text=True)


def test_wrong_password_is_refused_in_chinese_and_locks_after_five(browser, make_account):
    make_account("org1")
    browser.get("/console/login")
    for _ in range(5):
        response = browser.post("/console/login", {"username": "org1", "password": "wrong-one!"})
        assert response.status_code == 401
        assert "用户名或密码错误" in response.get_data(as_text=True)
    response = browser.post("/console/login", {"username": "org1", "password": "console-password"})
    assert response.status_code == 423 and "锁定" in response.get_data(as_text=True)


def test_pages_need_a_session(browser):
    response = browser.get("/console/entries")
    assert response.status_code == 302
    assert response.location.startswith("/console/login?next=/console/entries")
    htmx = browser.client.get("/console/entries", headers={"HX-Request": "true"})
    assert htmx.status_code == 401
    assert htmx.get_json()["error"]["message"] == "登录已过期，请重新登录"


def test_a_form_post_without_the_csrf_token_is_refused(organizer_browser):
    response = organizer_browser.post("/console/logout", csrf=False)
    assert response.status_code == 403
    assert "页面已过期或来源不明" in response.get_data(as_text=True)
    bad = organizer_browser.post("/console/logout", {"csrf_token": "0" * 64}, csrf=False)
    assert bad.status_code == 403
    htmx = organizer_browser.post("/console/logout", htmx=True, csrf=False)
    assert htmx.status_code == 403 and htmx.get_json()["error"]["code"] == "csrf_failed"
    assert organizer_browser.get("/console/").status_code == 200  # still signed in


def test_login_csrf_is_bound_to_the_browser_nonce(app, browser, make_account):
    make_account("org1")
    browser.get("/console/login")
    other = app.test_client()
    response = other.post(
        "/console/login",
        data={"username": "org1", "password": "console-password", "csrf_token": browser.csrf},
    )
    assert response.status_code == 403


def test_the_csrf_token_changes_at_sign_in(browser, make_account):
    make_account("org1")
    browser.get("/console/login")
    before = browser.csrf
    browser.sign_in("org1")
    assert browser.csrf and browser.csrf != before


def test_security_headers(organizer_browser):
    response = organizer_browser.get("/console/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    script = [p for p in csp.split(";") if "script-src" in p][0]
    assert "unsafe-inline" not in script and "unsafe-eval" not in script
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "<script>" not in html and " on" + "click=" not in html


def test_logout_revokes_the_token(organizer_browser):
    token = session_cookie(organizer_browser).value
    response = organizer_browser.post("/console/logout")
    assert response.status_code == 303
    assert account_of(live_session(token)) is None
    assert organizer_browser.get("/console/").status_code == 302


def test_sign_out_everywhere_revokes_every_session_of_the_account(
    app, organizer_browser, make_account
):
    from models import Account

    account = Account.get(Account.username == "org1")
    api_token, _ = issue_token(account)
    second = type(organizer_browser)(app.test_client())
    second.sign_in("org1")
    assert second.get("/console/").status_code == 200
    organizer_browser.post("/console/logout-everywhere")
    assert second.get("/console/").status_code == 302
    assert account_of(live_session(api_token)) is None
    assert AuthSession.select().where(AuthSession.revoked_at.is_null()).count() == 0


def test_idle_sessions_end(organizer_browser):
    token = session_cookie(organizer_browser).value
    redis_connection().delete(websession._idle_key(token))  # as if IDLE had passed
    assert organizer_browser.get("/console/").status_code == 302
    assert account_of(live_session(token)) is None


def test_absolute_expiry_is_the_token_expiry(organizer_browser):
    token = session_cookie(organizer_browser).value
    AuthSession.update(expires_at=AuthSession.created_at).execute()
    assert organizer_browser.get("/console/").status_code == 302
    assert account_of(live_session(token)) is None


def test_disabled_accounts_lose_their_session(organizer_browser):
    from models import Account

    Account.update(active=False).execute()
    assert organizer_browser.get("/console/").status_code == 302


def test_next_only_goes_to_console_pages(browser, make_account):
    make_account("org1")
    browser.get("/console/login")
    data = {"username": "org1", "password": "console-password"}
    response = browser.post("/console/login", {**data, "next": "https://evil.example/"})
    assert response.location == "/console/"
    browser.post("/console/logout")
    browser.get("/console/login")
    response = browser.post("/console/login", {**data, "next": "/console/notices"})
    assert response.location == "/console/notices"


def test_cookies_are_secure_in_production(app, browser, make_account, override_settings):
    override_settings(env="production")
    make_account("org1")
    browser.get("/console/login")
    response = browser.post("/console/login", {"username": "org1", "password": "console-password"})
    header = [h for h in response.headers.getlist("Set-Cookie") if "console_session" in h][0]
    assert "Secure" in header


def test_vendored_assets_are_served_from_the_service(client):
    for path in (
        "/console/static/vendor/htmx-2.0.11/htmx.min.js",
        "/console/static/vendor/bootstrap-5.3.8/bootstrap.min.css",
        "/console/static/vendor/echarts-5.6.0/echarts.min.js",
        "/console/static/console/console.js",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        response.close()


def test_static_files_set_no_cookie(client):
    response = client.get("/console/static/console/console.js")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()
