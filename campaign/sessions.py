"""Bearer tokens the service issues after a WeChat login or a console sign-in.

A token is 256 random bits shown to the client once; only its SHA-256 is stored, so the
table leaks nothing usable. Tokens expire, can be revoked, and never carry an openid: the
server looks the user up, and never trusts an identity sent by a client.
"""

import datetime
import hashlib
import secrets

from peewee import JOIN

from models import Account, AuthSession, Campaign, Prepared, WechatUser, utcnow

TOKEN_LIFETIME = datetime.timedelta(days=7)
CONSOLE_TOKEN_LIFETIME = datetime.timedelta(hours=12)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    holder: WechatUser | Account, lifetime: datetime.timedelta | None = None
) -> tuple[str, datetime.datetime]:
    """A new token for a WeChat user or a console account, and its expiry (naive UTC);
    `lifetime` shortens it (the console cookie of a department member lives 12 hours)."""
    token = secrets.token_urlsafe(32)
    if isinstance(holder, Account):
        expires_at = utcnow() + (lifetime or CONSOLE_TOKEN_LIFETIME)
        AuthSession.create(token_hash=_digest(token), account=holder, expires_at=expires_at)
    else:
        expires_at = utcnow() + (lifetime or TOKEN_LIFETIME)
        AuthSession.create(token_hash=_digest(token), user=holder, expires_at=expires_at)
    return token, expires_at


_IS_CURRENT = Campaign.is_current == True  # noqa: E712 - SQL, not Python truthiness


def _live_session_query(digest: str, now: datetime.datetime):
    return (
        AuthSession.select(AuthSession, WechatUser, Account, Campaign)
        .join(WechatUser, JOIN.LEFT_OUTER)
        .switch(AuthSession)
        .join(Account, JOIN.LEFT_OUTER)
        .switch(AuthSession)
        .join(Campaign, JOIN.LEFT_OUTER, on=_IS_CURRENT, attr="current_campaign")
        .where(
            (AuthSession.token_hash == digest)
            & (AuthSession.expires_at > now)
            & AuthSession.revoked_at.is_null()
        )
        .limit(1)
    )


_LIVE_SESSION = Prepared(
    _live_session_query, "prepared-sample:digest", datetime.datetime(1900, 1, 2, 3, 4, 5, 678901)
)


def live_session(token: str) -> AuthSession | None:
    """A token's live session with its holder (user or account) and the current campaign,
    read in one query: every authenticated request needs all three, in one round trip
    instead of three. `session.current_campaign` is None when no campaign is current."""
    if not token or len(token) > 128:
        return None
    session = _LIVE_SESSION.first(_digest(token), utcnow())
    if session is not None and getattr(session.current_campaign, "id", None) is None:
        session.current_campaign = None  # the outer join found no current campaign
    return session


def user_of(session: AuthSession | None) -> WechatUser | None:
    """The WeChat user of a live session, if a WeChat user holds it."""
    return session.user if session and session.user_id else None


def account_of(session: AuthSession | None) -> Account | None:
    """The console account of a live session, if an active account holds it."""
    if session is None or not session.account_id:
        return None
    return session.account if session.account.active else None


def revoke_token(token: str) -> bool:
    """Make a token unusable at once (logout)."""
    revoked = (
        AuthSession.update(revoked_at=utcnow())
        .where((AuthSession.token_hash == _digest(token)) & AuthSession.revoked_at.is_null())
        .execute()
    )
    return bool(revoked)


def revoke_all(holder: WechatUser | Account) -> int:
    """Sign out everywhere: every live token of this account or WeChat user, API included."""
    field = AuthSession.account if isinstance(holder, Account) else AuthSession.user
    return (
        AuthSession.update(revoked_at=utcnow())
        .where((field == holder.id) & AuthSession.revoked_at.is_null())
        .execute()
    )
