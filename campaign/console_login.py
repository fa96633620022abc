"""Department members sign in to the console the WeChat way: by scanning a one-time QR.

The login page asks for a temporary official-account QR whose scene is `login_<random>`;
the row remembers the hash of the asking browser's nonce. When WeChat pushes the SCAN (or
subscribe) event of that scene, the scanner is recorded, if they are a member of an active
department. The browser that asked, and only it, then claims the code once, within
`LIFETIME`. The WeChat call itself is passed in, so this module stays free of wechatpy.
"""

import datetime
import hashlib
import secrets
from collections.abc import Callable
from urllib.parse import unquote

from campaign.audit import record
from campaign.channels.recommending import departments_of
from models import ConsoleLoginCode, WechatUser, db, utcnow

SCENE_PREFIX = "login_"
LIFETIME = datetime.timedelta(minutes=5)


def nonce_hash(nonce: str) -> str:
    return hashlib.sha256(f"console-login:{nonce}".encode()).hexdigest()


def scene_of(event_key) -> str | None:
    """`login_…` from a SCAN's EventKey (`qrscene_login_…` for a first follow), else None."""
    if not event_key:
        return None
    scene = unquote(str(event_key)).strip().removeprefix("qrscene_")
    return scene if scene.startswith(SCENE_PREFIX) and len(scene) <= 64 else None


def start(nonce: str, create_qr: Callable[[str, int], dict]) -> ConsoleLoginCode:
    """A new code for the browser holding `nonce`; `create_qr(scene, seconds)` answers
    WeChat's `{ticket, url}` of a temporary QR_STR_SCENE code."""
    scene = SCENE_PREFIX + secrets.token_urlsafe(24)
    seconds = int(LIFETIME.total_seconds())
    answer = create_qr(scene, seconds)
    return ConsoleLoginCode.create(
        scene=scene,
        nonce_hash=nonce_hash(nonce),
        ticket=answer.get("ticket", ""),
        qr_url=answer.get("url", ""),
        expires_at=utcnow() + datetime.timedelta(seconds=seconds),
    )


def browser_code(code_id: int, nonce: str) -> ConsoleLoginCode | None:
    """The code if this browser asked for it (another browser's id answers None)."""
    code = ConsoleLoginCode.get_or_none(ConsoleLoginCode.id == code_id)
    if code is None or not secrets.compare_digest(code.nonce_hash, nonce_hash(nonce)):
        return None
    return code


def confirm_scan(user: WechatUser, event_key) -> bool:
    """The scan of a live login code by a department member marks it; others are ignored."""
    scene = scene_of(event_key)
    if scene is None or not departments_of(user):
        return False
    with db.atomic():
        marked = (
            ConsoleLoginCode.update(scanned_by=user, scanned_at=utcnow())
            .where(
                (ConsoleLoginCode.scene == scene)
                & (ConsoleLoginCode.expires_at > utcnow())
                & ConsoleLoginCode.scanned_by.is_null()
                & ConsoleLoginCode.used_at.is_null()
            )
            .execute()
        )
        if marked:
            code = ConsoleLoginCode.get(ConsoleLoginCode.scene == scene)
            record(f"user:{user.id}", "console.qr_scanned", code)
    return bool(marked)


def claim(code: ConsoleLoginCode) -> WechatUser | None:
    """Use a scanned, live, unused code once: the member it signs in, else None."""
    with db.atomic():
        used = (
            ConsoleLoginCode.update(used_at=utcnow())
            .where(
                (ConsoleLoginCode.id == code.id)
                & (ConsoleLoginCode.expires_at > utcnow())
                & ConsoleLoginCode.scanned_by.is_null(False)
                & ConsoleLoginCode.used_at.is_null()
            )
            .execute()
        )
        if not used:
            return None
        code = ConsoleLoginCode.get_by_id(code.id)
        record(f"user:{code.scanned_by_id}", "console.sign_in_qr", code)
    return code.scanned_by


def state(code: ConsoleLoginCode) -> str:
    """waiting | scanned | used | expired, for the polling page."""
    if code.used_at:
        return "used"
    if code.expires_at <= utcnow():
        return "expired"
    return "scanned" if code.scanned_by_id else "waiting"
