"""Keeping the sandbox's world across restarts, for `make run` only (tests keep it in memory).

`make run` restarts the sandbox with the stack; without this, the users, templates and
subscribe grants made halfway through a journey are gone, and the next notice to a user who
consented fails with 40003 (unknown openid). The devstack passes `--state-file` in the
instance folder; the world is written there (atomically) whenever it changed, and on stop,
and read back through the state's public methods before the sandbox serves.

What is kept: users (openid, unionid, nickname, follower, phone), templates and their
keyword types, and remaining subscribe credits. Apps come from the command line each start.
Reading the world takes the state's lock and its tables: the one place coupled to them.
"""

import json
import os
import threading
from dataclasses import asdict
from pathlib import Path

SAVE_EVERY = 1.0  # seconds between checks for changes


def snapshot(state) -> dict:
    """Users, templates and credits, as JSON-ready lists."""
    with state.lock:
        credits = state.messages._credits.items()
        return {
            "users": [asdict(user) for user in state.users._users.values()],
            "templates": [asdict(template) for template in state.messages._templates.values()],
            "credits": [[*key, count] for key, count in credits if count > 0],
        }


def restore(state, data: dict) -> int:
    """Put a snapshot back (apps must be registered first); return the users restored.
    Anything of an app the sandbox no longer has is skipped."""
    known = {app["appid"] for app in state.summary()["apps"]}
    users = [u for u in data.get("users", []) if u.get("appid") in known]
    for user in users:
        state.add_user(
            user["appid"], user["openid"], unionid=user.get("unionid"),
            nickname=user.get("nickname"), follower=user.get("follower"), phone=user.get("phone"),
        )  # fmt: skip
    for template in data.get("templates", []):
        if template.get("appid") in known:
            state.add_template(
                template["appid"], template["template_id"], template["keys"],
                long_term=template.get("long_term", False),
            )  # fmt: skip
    for appid, openid, template_id, count in data.get("credits", []):
        if appid in known:
            for _ in range(int(count)):
                state.answer_popup(appid, openid, {template_id: "accept"})
    return len(users)


def load(state, path: Path) -> int:
    """Restore from `path` if it exists (a damaged file is set aside, not fatal)."""
    if not path.exists():
        return 0
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        path.replace(path.with_suffix(".damaged"))
        return 0
    return restore(state, data)


def save(state, path: Path) -> str:
    """Write the snapshot atomically; return what was written."""
    text = json.dumps(snapshot(state), ensure_ascii=False, sort_keys=True)
    scratch = path.with_suffix(".tmp")
    scratch.write_text(text, encoding="utf-8")
    os.replace(scratch, path)
    return text


class Keeper:
    """Saves the world to `path` whenever it changed (checked every SAVE_EVERY s), and once
    more on `stop()`."""

    def __init__(self, state, path: Path):
        self.state, self.path = state, Path(path)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-keeper", daemon=True)
        self._saved = ""

    def start(self) -> "Keeper":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        load(self.state, self.path)
        self._saved = save(self.state, self.path)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        save(self.state, self.path)

    def _run(self) -> None:
        while not self._stop.wait(SAVE_EVERY):
            text = json.dumps(snapshot(self.state), ensure_ascii=False, sort_keys=True)
            if text != self._saved:
                self._saved = save(self.state, self.path)
