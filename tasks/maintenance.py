"""Housekeeping jobs run by the periodic schedule."""

from models import AuthSession, db, utcnow


@db.connection_context()
def purge_expired_sessions() -> int:
    """Delete bearer tokens that expired or were revoked; they can never be used again."""
    return (
        AuthSession.delete()
        .where((AuthSession.expires_at < utcnow()) | AuthSession.revoked_at.is_null(False))
        .execute()
    )
