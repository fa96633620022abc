"""Channel codes and how they travel: QR scenes, link URLs, OAuth state.

Every way into the campaign carries the same short code: the mini-program code's scene
and the official-account QR's `scene_str` are `c=<code>`, the plain link is
`<PUBLIC_BASE_URL>/q/<code>`. Codes are 10 characters from an unambiguous alphabet: short
enough for WeChat's 32-character scene, too many to guess (~50 bits).
"""

import re
import secrets
from urllib.parse import unquote, urlparse

CODE_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyz"
CODE_LENGTH = 10
CODE_PATTERN = re.compile(r"^[0-9a-z]{4,16}$")
SCENE_PREFIX = "c="


def new_code() -> str:
    """A fresh random channel code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def scene_for(code: str) -> str:
    """The scene string printed into mini-program codes and official-account QR codes."""
    return SCENE_PREFIX + code


def code_from_scene(scene: str | None) -> str | None:
    """`c=<code>` (URL-encoded or not, with `qrscene_` or not) → code; anything else → None."""
    if not scene:
        return None
    scene = unquote(str(scene)).strip()
    scene = scene.removeprefix("qrscene_")
    if not scene.startswith(SCENE_PREFIX):
        return None
    code = scene[len(SCENE_PREFIX) :].split("&", 1)[0]
    return code if CODE_PATTERN.match(code) else None


def code_from_link(q: str | None) -> str | None:
    """The code in a scanned plain link (`options.q` in the mini-program, URL-encoded)."""
    if not q:
        return None
    path = urlparse(unquote(str(q)).strip()).path
    match = re.fullmatch(r"/q/([0-9a-z]{4,16})/?", path)
    return match.group(1) if match else None
