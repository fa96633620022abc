"""Bearer tokens the service issues after a WeChat login.

A token is 256 random bits shown to the client once; only its SHA-256 is stored, so the
table leaks nothing usable. Tokens expire, can be revoked, and never carry an openid: the
server looks the user up, and never trusts an identity sent by a client.
"""

import datetime
import hashlib
import secrets

from models import AuthSession, WechatUser, utcnow

TOKEN_LIFETIME = datetime.timedelta(days=7)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: WechatUser) -> tuple[str, datetime.datetime]:
    """A new token for `user` and its expiry (naive UTC)."""
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + TOKEN_LIFETIME
    AuthSession.create(token_hash=_digest(token), user=user, expires_at=expires_at)
    return token, expires_at


def user_for_token(token: str) -> WechatUser | None:
    """The user a live token belongs to, or None for unknown, expired or revoked tokens."""
    if not token or len(token) > 128:
        return None
    session = (
        AuthSession.select(AuthSession, WechatUser)
        .join(WechatUser)
        .where(
            (AuthSession.token_hash == _digest(token))
            & (AuthSession.expires_at > utcnow())
            & AuthSession.revoked_at.is_null()
        )
        .first()
    )
    return session.user if session else None


def revoke_token(token: str) -> bool:
    """Make a token unusable at once (logout)."""
    revoked = (
        AuthSession.update(revoked_at=utcnow())
        .where((AuthSession.token_hash == _digest(token)) & AuthSession.revoked_at.is_null())
        .execute()
    )
    return bool(revoked)
