"""Console pages against the JSON API they sit beside, at 20,000 entries (SQLite, embedded
Redis, in-process through Flask's client).

Printed side by side: the entries page (a full HTML page with layout, filters and pager),
the same page's htmx fragment, and `GET /api/v1/org/entries` for the same 20 rows; then a
substring search over every title, and the dashboard. The goal is that a page costs the
same order as the API call it mirrors (the cookie session, CSRF and CSP add little).
"""

import statistics
import tempfile
import time
from pathlib import Path

from bench.stack import environment

ENTRIES = 20_000
RUNS = 30


def main() -> dict:
    with tempfile.TemporaryDirectory() as workdir, environment(Path(workdir)) as env:
        return _run(env)


def _run(env: dict) -> dict:
    from app import create_app
    from campaign.accounts import create_account
    from campaign.definition import current_campaign
    from campaign.sessions import issue_token
    from config import load_settings
    from models import Entry, Unit, WechatUser, db

    app = create_app(load_settings(env))
    with db.connection_context():
        campaign = current_campaign()
        owner = WechatUser.create(app="wxa", openid="o-bench")
        unit = Unit.create(campaign=campaign, owner=owner, name="基准单位")
        words = ("红色引擎", "社区治理", "乡村振兴", "数字党建", "党员先锋")
        rows = [
            {"campaign": campaign.id, "unit": unit.id, "owner": owner.id, "route": "org_dept",
             "title": f"{words[n % 5]}案例{n}", "status": "submitted", "content_check": "pass"}
            for n in range(ENTRIES)
        ]  # fmt: skip
        with db.atomic():
            for start in range(0, ENTRIES, 500):
                Entry.insert_many(rows[start : start + 500]).execute()
        account = create_account("bench-org", "bench-password", "organizer", "基准", campaign)
        token, _ = issue_token(account)
    browser = app.test_client()
    browser.get("/console/login")
    login = browser.get("/console/login").get_data(as_text=True)
    csrf = login.split('name="csrf_token" value="', 1)[1][:64]
    browser.post(
        "/console/login",
        data={"username": "bench-org", "password": "bench-password", "csrf_token": csrf},
    )
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    cases = {
        "API  GET /api/v1/org/entries?size=20": lambda: api.get(
            "/api/v1/org/entries?size=20", headers=bearer
        ),
        "page GET /console/entries (whole page)": lambda: browser.get("/console/entries"),
        "page GET /console/entries (htmx fragment)": lambda: browser.get(
            "/console/entries", headers={"HX-Request": "true"}
        ),
        "page GET /console/entries?q=红色 (substring)": lambda: browser.get(
            "/console/entries?q=红色"
        ),
        "page GET /console/ (dashboard)": lambda: browser.get("/console/"),
    }
    results = {}
    print(f"console pages at {ENTRIES:,} entries, median of {RUNS} (SQLite, in-process)")
    for name, call in cases.items():
        assert call().status_code == 200, name
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
        results[name] = statistics.median(times) * 1000
    base = results["API  GET /api/v1/org/entries?size=20"]
    for name, ms in results.items():
        print(f"  {name:<48} {ms:8.1f} ms   {ms / base:5.2f}× the API")
    return results


if __name__ == "__main__":
    main()
