"""Time-limited public links to one evidence image, for WeChat's media check to download.

`wxa/media_check_async` needs a URL WeChat's servers can fetch; evidence is otherwise
private, so the link carries a signed, expiring attachment id and nothing else.
"""

from itsdangerous import BadSignature, URLSafeTimedSerializer

SALT = "media-check"
LIFETIME = 6 * 3600  # WeChat answers within 30 minutes; retries may come later


def media_token(secret: str, attachment_id: int, salt: str = SALT) -> str:
    return URLSafeTimedSerializer(secret, salt=salt).dumps(attachment_id)


def attachment_id_for(
    secret: str, token: str, max_age: int = LIFETIME, salt: str = SALT
) -> int | None:
    """The attachment id in a valid, unexpired token; None for anything else (a token made
    with another `salt`, for another purpose, included)."""
    try:
        value = URLSafeTimedSerializer(secret, salt=salt).loads(token, max_age=max_age)
    except BadSignature:  # includes SignatureExpired
        return None
    return value if isinstance(value, int) else None
