"""Time-limited public links to one evidence image, for WeChat's media check to download.

`wxa/media_check_async` needs a URL WeChat's servers can fetch; evidence is otherwise
private, so the link carries a signed, expiring storage key and nothing else. The storage
key (a random name, never reused) and not the row id: a row id can come back after a delete
(SQLite reuses the highest rowid), and a link must never open someone else's later upload
(issue 11).
"""

from itsdangerous import BadSignature, URLSafeTimedSerializer

SALT = "media-check-key"  # changed with the payload: links of the id era no longer open
LIFETIME = 6 * 3600  # WeChat answers within 30 minutes; retries may come later


def media_token(secret: str, storage_key: str, salt: str = SALT) -> str:
    return URLSafeTimedSerializer(secret, salt=salt).dumps(storage_key)


def storage_key_for(
    secret: str, token: str, max_age: int = LIFETIME, salt: str = SALT
) -> str | None:
    """The storage key in a valid, unexpired token; None for anything else (a token made
    with another `salt`, for another purpose, included)."""
    try:
        value = URLSafeTimedSerializer(secret, salt=salt).loads(token, max_age=max_age)
    except BadSignature:  # includes SignatureExpired
        return None
    return value if isinstance(value, str) and value else None
