"""Settings come from the environment; production refuses unsafe defaults."""

import pytest

from config import DEFAULT_SECRET_KEY, ConfigError, load_settings

PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "x" * 48,
    "DATABASE_URL": "postgresql://campaign@db/campaign",
    "REDIS_URL": "redis://redis:6379/0",
    "WECHAT_MP_APPID": "wx1234567890abcdef",
    "WECHAT_MP_SECRET": "s",
    "WECHAT_WXA_APPID": "wxfedcba0987654321",
    "WECHAT_WXA_SECRET": "s",
    "PHONE_KEY": "1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
}


def test_development_needs_nothing(tmp_path):
    settings = load_settings({"INSTANCE_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path}/campaign.db"
    assert settings.embedded_redis
    assert settings.wechat_sandbox
    assert settings.wechat_api_base == "http://127.0.0.1:5055"
    assert settings.mp.appid and settings.wxa.aes_key


def test_production_starts_with_real_settings():
    settings = load_settings(PRODUCTION)
    assert settings.production
    assert not settings.wechat_sandbox
    assert settings.wechat_api_base == ""


@pytest.mark.parametrize("secret", ["", DEFAULT_SECRET_KEY, "short"])
def test_production_refuses_a_default_or_weak_secret(secret):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings({**PRODUCTION, "SECRET_KEY": secret})


@pytest.mark.parametrize("missing", ["DATABASE_URL", "REDIS_URL", "PHONE_KEY"])
def test_production_refuses_embedded_defaults(missing):
    environ = {k: v for k, v in PRODUCTION.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        load_settings(environ)


def test_bad_integer_is_a_clear_error():
    with pytest.raises(ConfigError, match="PORT must be an integer"):
        load_settings({"PORT": "eighty"})


def test_server_side_prepares_are_on_unless_turned_off():
    assert load_settings({}).db_prepare is True
    assert load_settings({"DB_PREPARE": "off"}).db_prepare is False
    assert load_settings({"DB_PREPARE": " ON "}).db_prepare is True
    with pytest.raises(ConfigError, match="DB_PREPARE must be on or off"):
        load_settings({"DB_PREPARE": "no"})


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError, match="APP_ENV"):
        load_settings({"APP_ENV": "staging"})
