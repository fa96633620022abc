"""Signed, expiring links to one evidence image for WeChat's media check."""

from campaign.entries.media_links import attachment_id_for, media_token

SECRET = "s" * 32


def test_a_token_gives_back_its_attachment_id():
    assert attachment_id_for(SECRET, media_token(SECRET, 42)) == 42


def test_another_secret_or_a_changed_token_gives_nothing():
    token = media_token(SECRET, 42)
    assert attachment_id_for("other" * 8, token) is None
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert attachment_id_for(SECRET, tampered) is None
    assert attachment_id_for(SECRET, "") is None
    assert attachment_id_for(SECRET, "not-a-token") is None


def test_an_expired_token_gives_nothing():
    token = media_token(SECRET, 42)
    assert attachment_id_for(SECRET, token, max_age=-1) is None  # older than allowed
    assert attachment_id_for(SECRET, token, max_age=60) == 42


def test_a_token_of_another_purpose_gives_nothing():
    from itsdangerous import URLSafeTimedSerializer

    other = URLSafeTimedSerializer(SECRET, salt="something-else").dumps(42)
    assert attachment_id_for(SECRET, other) is None
    not_an_id = URLSafeTimedSerializer(SECRET, salt="media-check").dumps("42")
    assert attachment_id_for(SECRET, not_an_id) is None
