"""What the docs and the official account promise works: replies link only to pages that
exist, endorse takes an empty body, the documented commands exist."""

import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from wechat.handlers import KEYWORD_REPLIES, Links, welcome

pytest_plugins = ("tests.collection.fixtures",)
ROOT = Path(__file__).resolve().parents[2]


def test_official_account_replies_link_only_to_pages_that_exist(client, settings, campaign):
    links = Links(settings.public_base_url, settings.wxa.appid, "pages/index/index")
    replies = [reply(links) for reply in KEYWORD_REPLIES.values()] + [welcome(links, None)]
    hrefs = {href for text in replies for href in re.findall(r'href="([^"]+)"', text)}
    assert hrefs
    for href in hrefs:
        parts = urlsplit(href)
        response = client.get(parts.path, query_string=parts.query)
        assert response.status_code != 404, href
        assert "/h5/progress" not in href


@pytest.mark.parametrize("body", [None, "", "null", "{}", '{"comment": "材料齐全"}'])
def test_endorse_accepts_an_empty_body(world, body):
    entry = world.submitted()
    path = f"/api/v1/dept/entries/{entry['id']}/endorse"
    kwargs = {} if body is None else {"data": body, "content_type": "application/json"}
    response = world.officer.post(path, **kwargs)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "endorsed"


def test_endorse_refuses_a_body_that_is_not_an_object(world):
    entry = world.submitted()
    path = f"/api/v1/dept/entries/{entry['id']}/endorse"
    response = world.officer.post(path, data="[1]", content_type="application/json")
    assert response.status_code == 400


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z-]*):", text, re.MULTILINE))


def test_every_make_command_in_the_docs_exists():
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    targets = make_targets()
    for document in documents:
        for target in re.findall(r"`make ([a-z][a-z-]*)", document.read_text()):
            assert target in targets, f"{document.name}: make {target}"


IN_THE_IMAGE = ("docker", "| migrate |")  # commands run inside the container, on its PATH


def test_no_doc_calls_flask_outside_the_venv():
    """`flask` is not on a fresh shell's PATH: docs say `.venv/bin/flask` or a make target."""
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for document in documents:
        for line in document.read_text().splitlines():
            bare = re.search(r"(^|[`\s(])flask --app", line)
            if any(marker in line for marker in IN_THE_IMAGE):
                continue
            assert not bare, f"{document.name}: {line.strip()}"


def test_make_campaign_load_works_from_a_fresh_shell(tmp_path):
    """As pasted in a new terminal: no venv activated, only the environment's database.
    (`-o .venv/.installed`: the shared test virtualenv is not reinstalled from here.)"""
    plan = ROOT / "campaign" / "plans" / "fujian-2021.yaml"
    environ = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path}/fresh.db",
        "INSTANCE_DIR": str(tmp_path),
        "LOG_LEVEL": "WARNING",
    }
    result = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "campaign-load", f"FILE={plan}"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    usage = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "campaign-load"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert usage.returncode != 0 and "usage: make campaign-load FILE=" in usage.stdout


def test_the_sandbox_docs_name_the_appids_make_run_uses(sandbox):
    from config import SANDBOX_APPS

    text = (ROOT / "docs" / "sandbox.md").read_text()
    for app in SANDBOX_APPS.values():
        assert f"`{app['appid']}`" in text and f"`{app['secret']}`" in text
        sandbox.state.add_app("wxa", app["appid"], app["secret"], app["token"], app["aes_key"])
    import requests

    for app in SANDBOX_APPS.values():
        reply = requests.get(
            f"{sandbox.url}/cgi-bin/token",
            params={
                "grant_type": "client_credential",
                "appid": app["appid"],
                "secret": app["secret"],
            },
            timeout=5,
        ).json()
        assert "access_token" in reply, reply


def test_the_api_page_is_redoc_served_from_here(client):
    page = client.get("/docs/api")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<redoc spec-url="/openapi.json"' in html
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert scripts == ["/docs/static/vendor/redoc-2.5.4/redoc.standalone.js"]
    assert not re.search(r'(src|href)="(https?:)?//', html)  # no CDN
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    script = client.get(scripts[0])
    assert script.status_code == 200 and b"Redoc" in script.data[:5000] + script.data[-5000:]
    script.close()
    vendored = ROOT / "pages" / "static" / "vendor" / "redoc-2.5.4"
    assert "MIT License" in (vendored / "LICENSE").read_text()
    assert "/api/v1/entries/{entry_id}/submit" in html  # listed for readers without JavaScript
    assert client.get("/docs/api/summary").status_code == 200
