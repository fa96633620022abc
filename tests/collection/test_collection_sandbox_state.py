"""`make run`'s WeChat sandbox keeps users, templates and grants across restarts (in the
instance folder); tests' sandboxes stay in memory."""

import json
import signal
import subprocess
import sys

import requests

from config import SANDBOX_APPS
from tests.collection.test_collection_docs import ROOT
from wechat.sandbox import persistence
from wechat.sandbox.state import SandboxState

WXA = SANDBOX_APPS["wxa"]


def with_app(state: SandboxState) -> SandboxState:
    state.add_app("wxa", WXA["appid"], WXA["secret"], WXA["token"], WXA["aes_key"])
    return state


def test_users_templates_and_grants_survive(tmp_path):
    first = with_app(SandboxState())
    first.add_user(WXA["appid"], "o-kept", unionid="u-1", nickname="王芳")
    first.add_template(WXA["appid"], "tpl-status", {"thing1": "thing"})
    first.answer_popup(WXA["appid"], "o-kept", {"tpl-status": "accept"})
    first.answer_popup(WXA["appid"], "o-kept", {"tpl-status": "accept"})
    path = tmp_path / "wechat-sandbox.json"
    persistence.save(first, path)
    second = with_app(SandboxState())
    assert persistence.load(second, path) == 1
    assert second.user(WXA["appid"], "o-kept").unionid == "u-1"
    assert second.credits(WXA["appid"], "o-kept", "tpl-status") == 2
    assert second.summary()["templates"] == 1


def test_a_damaged_file_is_set_aside(tmp_path):
    path = tmp_path / "wechat-sandbox.json"
    path.write_text("{not json")
    assert persistence.load(with_app(SandboxState()), path) == 0
    assert path.with_suffix(".damaged").exists()


def run_sandbox(state_file) -> tuple[subprocess.Popen, str]:
    app = {**WXA, "kind": "wxa"}
    process = subprocess.Popen(
        [sys.executable, "-m", "wechat.sandbox", "--port", "0", "--app", json.dumps(app),
         "--state-file", str(state_file)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    return process, process.stdout.readline().strip()


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    process.stdout.close()


def test_the_sandbox_process_remembers_after_a_restart(tmp_path):
    state_file = tmp_path / "instance" / "wechat-sandbox.json"
    process, url = run_sandbox(state_file)
    try:
        added = requests.post(
            f"{url}/__admin/users", json={"appid": WXA["appid"], "openid": "o-journey"}, timeout=5
        )
        assert added.status_code == 200, added.text
    finally:
        stop(process)
    assert state_file.exists()
    process, url = run_sandbox(state_file)
    try:
        assert requests.get(f"{url}/__admin/state", timeout=5).json()["users"] == 1
        code = requests.post(
            f"{url}/__admin/login-code",
            json={"appid": WXA["appid"], "openid": "o-journey"},
            timeout=5,
        ).json()["code"]
        session = requests.get(
            f"{url}/sns/jscode2session",
            params={"appid": WXA["appid"], "secret": WXA["secret"], "js_code": code,
                    "grant_type": "authorization_code"},
            timeout=5,
        ).json()  # fmt: skip
        assert session.get("openid") == "o-journey", session
    finally:
        stop(process)
