"""Signed, expiring links to one evidence image for WeChat's media check, bound to the file's
storage key (never a row id that a later upload could reuse)."""

from itsdangerous import URLSafeTimedSerializer

from campaign.entries.media_links import SALT, media_token, storage_key_for

SECRET = "s" * 32
KEY = "2021/10/" + "a" * 32 + ".jpg"


def test_a_token_gives_back_its_storage_key():
    assert storage_key_for(SECRET, media_token(SECRET, KEY)) == KEY


def test_another_secret_or_a_changed_token_gives_nothing():
    token = media_token(SECRET, KEY)
    assert storage_key_for("other" * 8, token) is None
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert storage_key_for(SECRET, tampered) is None
    assert storage_key_for(SECRET, "") is None
    assert storage_key_for(SECRET, "not-a-token") is None


def test_an_expired_token_gives_nothing():
    token = media_token(SECRET, KEY)
    assert storage_key_for(SECRET, token, max_age=-1) is None  # older than allowed
    assert storage_key_for(SECRET, token, max_age=60) == KEY


def test_a_token_of_another_purpose_or_shape_gives_nothing():
    other = URLSafeTimedSerializer(SECRET, salt="something-else").dumps(KEY)
    assert storage_key_for(SECRET, other) is None
    assert storage_key_for(SECRET, other, salt="something-else") == KEY  # its own purpose
    a_row_id = URLSafeTimedSerializer(SECRET, salt=SALT).dumps(42)  # the old, id-bound form
    assert storage_key_for(SECRET, a_row_id) is None
