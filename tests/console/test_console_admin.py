"""Admin pages: accounts (create, disable, reset) and the job queues (failed jobs, retry),
plus the audit log that records what they did."""

from campaign.sessions import account_of, issue_token, live_session
from models import Account, AuditLog
from tasks.queue import get_queue


def failing_job():
    raise RuntimeError("打印机没纸了")


def admin(browser, make_account):
    make_account("root1", "admin")
    browser.sign_in("root1")
    browser.get("/console/accounts")
    return browser


def test_admin_creates_disables_and_resets_accounts(browser, make_account):
    admin(browser, make_account)
    created = browser.post(
        "/console/accounts",
        {
            "username": "expert7",
            "display_name": "王专家",
            "role": "expert",
            "password": "long-password-1",
        },
        htmx=True,
    )
    assert created.status_code == 200 and "王专家" in created.get_data(as_text=True)
    expert = Account.get(Account.username == "expert7")
    token, _ = issue_token(expert)
    problems = browser.post(
        "/console/accounts", {"username": "expert7", "password": "x"}, htmx=True
    )
    assert problems.status_code == 422
    fields = {f["field"] for f in problems.get_json()["error"]["fields"]}
    assert fields == {"username", "role", "password"}
    disabled = browser.post(f"/console/accounts/{expert.id}/disable", htmx=True)
    assert disabled.status_code == 200 and "已停用" in disabled.get_data(as_text=True)
    assert account_of(live_session(token)) is None  # every session of a disabled account ends
    browser.post(f"/console/accounts/{expert.id}/enable", htmx=True)
    short = browser.post(
        f"/console/accounts/{expert.id}/password", {"password": "short"}, htmx=True
    )
    assert short.status_code == 422
    reset = browser.post(
        f"/console/accounts/{expert.id}/password", {"password": "a-new-password"}, htmx=True
    )
    assert reset.status_code == 200
    actions = [a.action for a in AuditLog.select().where(AuditLog.object_id == str(expert.id))]
    assert {"account.create", "account.disable", "account.enable", "account.reset_password"} <= set(
        actions
    )
    own = Account.get(Account.username == "root1")
    assert browser.post(f"/console/accounts/{own.id}/disable", htmx=True).status_code == 409


def test_failed_jobs_show_their_traceback_and_can_be_retried(browser, make_account, run_jobs):
    admin(browser, make_account)
    job = get_queue("default").enqueue(failing_job)
    run_jobs(allow_failures=True)
    page = browser.get("/console/jobs").get_data(as_text=True)
    assert job.id in page and "打印机没纸了" in page
    retried = browser.post(f"/console/jobs/default/{job.id}/retry", htmx=True)
    assert retried.status_code == 200
    assert job.id not in get_queue("default").failed_job_registry.get_job_ids()
    assert job.id in get_queue("default").job_ids
    again = browser.post(f"/console/jobs/default/{job.id}/retry", htmx=True)
    assert again.status_code == 404
    assert AuditLog.get(AuditLog.action == "job.retry").after["job"] == job.id


def test_the_audit_log_shows_chinese_and_filters(browser, make_account):
    admin(browser, make_account)
    browser.post(
        "/console/accounts",
        {
            "username": "org9",
            "display_name": "李组织",
            "role": "organizer",
            "password": "long-password-1",
        },
        htmx=True,
    )
    page = browser.get("/console/audit?action=account.create").get_data(as_text=True)
    assert "account.create" in page and "org9" in page
    assert "account.sign_in" not in page


def test_phone_numbers_need_the_pii_right(app, browser, make_account, world):
    from models import Unit
    from tests.console.conftest import Browser

    Unit.update(contact_phone="13812345678").execute()
    make_account("org-pii", "organizer")
    organizer = Browser(app.test_client())
    organizer.sign_in("org-pii")
    page = organizer.get("/console/units").get_data(as_text=True)
    assert "138****5678" in page and "13812345678" not in page
    admin(browser, make_account)
    assert "13812345678" in browser.get("/console/units").get_data(as_text=True)
    target = Account.get(Account.username == "org-pii")
    granted = browser.post(f"/console/accounts/{target.id}/pii/grant", htmx=True)
    assert granted.status_code == 200
    assert "13812345678" in organizer.get("/console/units").get_data(as_text=True)
    browser.post(f"/console/accounts/{target.id}/pii/revoke", htmx=True)
    assert "13812345678" not in organizer.get("/console/units").get_data(as_text=True)
    rows = AuditLog.select().where(AuditLog.action == "account.pii").order_by(AuditLog.id)
    assert [r.after["pii"] for r in rows] == [True, False]
    assert organizer.post(f"/console/accounts/{target.id}/pii/grant", htmx=True).status_code == 403
