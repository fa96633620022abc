"""The layers import one way (STYLE.md): ground floor ← rules ← plumbing ← edges ← entry points.

A module may import its own layer and the layers below it, never above; the rules
(`campaign/`) and the drawing code know nothing of Flask, RQ or wechatpy; nothing imports
`app.py`. Checked on the source, so a violation fails here before it becomes a cycle.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LAYERS = {
    "config": 0,
    "logs": 0,
    "sealing": 0,
    "models": 1,
    "storage": 1,
    "campaign": 2,
    "drawing": 2,
    "tasks": 3,
    "wechat": 3,
    "api": 4,
    "pages": 4,
    "runtime": 5,
    "commands": 5,
    "privacy_commands": 5,
    "backups": 5,
    "cli": 6,
    "app": 6,
    "devstack": 7,
}
FORBIDDEN = {
    "campaign": {"flask", "rq", "wechatpy", "redis"},  # werkzeug.security hashes passwords
    "drawing": {"flask", "rq", "wechatpy", "redis"},
    "models": {"flask", "rq", "wechatpy", "redis"},
    "config": {"flask", "rq", "wechatpy", "redis", "peewee"},
    "sealing": {"flask", "rq", "wechatpy", "redis", "peewee"},
}


def package_of(path: Path) -> str:
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def source_files():
    for top in LAYERS:
        target = ROOT / top
        paths = target.rglob("*.py") if target.is_dir() else [ROOT / f"{top}.py"]
        for path in paths:
            if "sandbox" not in path.parts:  # the sandbox is WeChat's side, not ours
                yield path


def imported_tops(path: Path) -> set[str]:
    tops = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            tops |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            tops.add(node.module.split(".")[0])
    return tops


def test_no_module_imports_a_layer_above_its_own():
    upward = []
    for path in source_files():
        own = package_of(path)
        for top in imported_tops(path) & LAYERS.keys():
            if LAYERS[top] > LAYERS[own] or (top == "app" and own != "app"):
                upward.append(f"{path.relative_to(ROOT)} imports {top}")
    assert upward == []


def test_the_rules_and_the_ground_floor_import_no_framework():
    found = []
    for path in source_files():
        banned = FORBIDDEN.get(package_of(path), set()) & imported_tops(path)
        if banned:
            found.append(f"{path.relative_to(ROOT)} imports {sorted(banned)}")
    assert found == []


def test_the_layer_check_sees_an_upward_import(tmp_path):
    """The check itself can fail: a rule module that imports Flask is caught."""
    rule = tmp_path / "rule.py"
    rule.write_text("from flask import request\nimport api.errors\n")
    assert {"flask", "api"} <= imported_tops(rule)
