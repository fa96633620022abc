"""Every environment variable the service reads is a setting of config.py, and documented.

Service code (everything but tests, benchmarks and migrations) reaches settings through
`config.current_settings()`; a stray `os.environ.get("X")` anywhere else would be a setting
operators cannot find. deploy/gunicorn.conf.py reads gunicorn's own server settings before
the app exists; config.py names those too (`SERVER_ENVIRONMENT`).
"""

import ast
import re
from pathlib import Path

import config

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".venv", "tests", "bench", "migrations", ".git", "instance"}
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{2,}[A-Z0-9]$")


def names_read(path: Path) -> set[str]:
    """Literal names passed to os.environ.get/[]/getenv or an `_env_*`/`_int`-style reader."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Subscript) and _is_environ(node.value):
            found |= _literal(node.slice)
        elif isinstance(node, ast.Call):
            func = node.func
            name = getattr(func, "attr", None) or getattr(func, "id", None) or ""
            if name in ("get", "pop") and _is_environ(getattr(func, "value", None)):
                found |= _literal(node.args[0]) if node.args else set()
            elif name == "getenv" or name.startswith("_env"):
                found |= _literal(node.args[0]) if node.args else set()
    return {name for name in found if ENV_NAME.match(name)}


def _is_environ(node) -> bool:
    """`os.environ` (a WSGI `environ` dict is the request's, not the process's)."""
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _literal(node) -> set[str]:
    return {node.value} if isinstance(node, ast.Constant) and isinstance(node.value, str) else set()


def defined_names() -> set[str]:
    """Every UPPER_CASE string config.py mentions, with the WeChat credential families."""
    tree = ast.parse((ROOT / "config.py").read_text())
    names = {
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and ENV_NAME.match(n.value)
    }
    names |= {
        f"WECHAT_{kind}_{key}"
        for kind in ("MP", "WXA")
        for key in ("APPID", "SECRET", "TOKEN", "AES_KEY")
    }
    return names | set(config.SERVER_ENVIRONMENT) | set(config.NOTICE_ENVIRONMENT.values())


def service_files():
    for path in ROOT.rglob("*.py"):
        if not SKIP & set(path.relative_to(ROOT).parts):
            yield path


def test_code_reads_only_variables_config_defines():
    undefined = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in service_files()
        for name in names_read(path) - defined_names()
    }
    assert undefined == set()


def test_every_setting_is_documented():
    documented = (ROOT / "docs/configuration.md").read_text()
    missing = {name for name in defined_names() if f"`{name}`" not in documented}
    assert missing == set()


def test_the_scan_finds_a_stray_read(tmp_path):
    stray = tmp_path / "stray.py"
    stray.write_text(
        'import os\nA = os.environ.get("STRAY_SETTING")\nB = os.environ["OTHER_ONE"]\n'
        'def app(environ, start):\n    return environ.get("REQUEST_METHOD")\n'
    )
    assert names_read(stray) == {"STRAY_SETTING", "OTHER_ONE"}
