"""The console's assets are vendored, pinned and checked: no CDN, no build step."""

import hashlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "pages" / "static" / "vendor"
TEMPLATES = ROOT / "pages" / "templates" / "console"


def test_every_vendored_file_matches_its_recorded_hash():
    recorded = {}
    for line in (VENDOR / "VERSIONS").read_text().splitlines():
        digest, name = line.split()
        recorded[name] = digest
    on_disk = {
        str(p.relative_to(VENDOR)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in VENDOR.rglob("*")
        if p.is_file() and p.name not in ("VERSIONS", "README.md")
    }
    assert on_disk == recorded


def test_every_vendored_package_has_its_licence_and_a_readme_row():
    readme = (VENDOR / "README.md").read_text()
    for folder in (p for p in VENDOR.iterdir() if p.is_dir()):
        assert (folder / "LICENSE").is_file(), folder.name
        assert f"`{folder.name}/`" in readme, folder.name


def test_templates_load_nothing_from_another_host_and_have_no_inline_script():
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"""(src|href)=["'](https?:)?//""", text), template.name
        for tag in re.findall(r"<script[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, (template.name, tag)
        assert not re.search(r"\son[a-z]+=", text), template.name
