"""Every setting of the service, read once from the environment.

The names are the operators' contract (DESIGN §7): add settings, never rename them.
Development works with nothing set; production refuses to start without the secrets
that protect real users.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent

DEFAULT_SECRET_KEY = "dev-only-secret-key-change-me"

# Credentials the WeChat sandbox is started with when no real ones are configured.
# They are public on purpose: they only ever open the loopback sandbox.
SANDBOX_APPS = {
    "mp": {
        "appid": "wx00000000000000a1",
        "secret": "sandbox-mp-secret",
        "token": "sandboxmptoken",
        "aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    },
    "wxa": {
        "appid": "wx00000000000000b2",
        "secret": "sandbox-wxa-secret",
        "token": "sandboxwxatoken",
        "aes_key": "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg",
    },
}


# Read by deploy/gunicorn.conf.py before the app exists (gunicorn's own server settings).
SERVER_ENVIRONMENT = ("PORT", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS", "LOG_LEVEL")

# Every NOTICE_* variable, by the field of `NoticeSettings` it sets.
NOTICE_ENVIRONMENT = {
    "send_rate": "NOTICE_SEND_RATE",
    "send_burst": "NOTICE_SEND_BURST",
    "batch": "NOTICE_BATCH",
    "senders": "NOTICE_SENDERS",
    "lease": "NOTICE_LEASE_SECONDS",
    "hold": "NOTICE_HOLD_SECONDS",
    "job_seconds": "NOTICE_JOB_SECONDS",
    "fanout_grace": "NOTICE_FANOUT_GRACE_SECONDS",
}


class ConfigError(RuntimeError):
    """A setting is missing or unsafe; the process must not start."""


@dataclass(frozen=True)
class WechatApp:
    """Credentials of one WeChat app (the official account or the mini-program)."""

    kind: str
    appid: str
    secret: str
    token: str
    aes_key: str


@dataclass(frozen=True)
class NoticeSettings:
    """How the notice outbox sends (docs/notices.md, "Settings")."""

    send_rate: float = 20.0
    send_burst: float = 1.0
    batch: int = 100
    senders: int = 4
    lease: float = 60.0
    hold: float = 120.0
    job_seconds: float = 30.0
    fanout_grace: float = 300.0


@dataclass(frozen=True)
class S3Settings:
    """An S3-compatible bucket for uploads, codes and kits (docs/deploy.md, "Scaling out").
    No bucket: the local folder `STORAGE_DIR`."""

    bucket: str = ""
    prefix: str = ""
    endpoint_url: str = ""
    region: str = "us-east-1"
    access_key_id: str = ""
    secret_access_key: str = ""
    addressing_style: str = "path"
    url_expires: int = 300


@dataclass(frozen=True)
class Settings:
    """The parsed environment. Built by `load_settings()`, never mutated."""

    env: str
    secret_key: str
    database_url: str
    redis_url: str
    embedded_redis: bool
    public_base_url: str
    media_base_url: str
    instance_dir: Path
    storage_dir: Path
    port: int
    log_level: str
    db_pool_size: int
    db_prepare: bool
    upload_max_mb: int
    wechat_api_base: str
    wechat_sandbox: bool
    sandbox_port: int
    mp: WechatApp
    wxa: WechatApp
    wxa_page: str
    wxa_env_version: str
    callback_max_age: int
    rq_worker_ttl: int
    rq_maintenance_interval: int
    wechat_mp_qr_budget: int = 100_000
    poster_font: str = ""
    prometheus_multiproc_dir: str = ""
    notices: NoticeSettings = field(default_factory=NoticeSettings)
    s3: S3Settings = field(default_factory=S3Settings)
    redis_sentinels: tuple = ()  # ((host, port), …): Redis through Sentinel, not REDIS_URL
    redis_sentinel_master: str = "mymaster"
    redis_sentinel_password: str = ""
    # --- hardening (issue 11): rate limits per minute, /q/ repeat window, PII ---
    rate_login_per_ip: int = 30
    rate_upload_per_user: int = 60
    rate_text_count_per_ip: int = 120
    rate_form_per_ip: int = 10
    scan_repeat_minutes: int = 30
    phone_keys: tuple = ()
    retention_contact_days: int = 180
    retention_log_days: int = 180

    @property
    def production(self) -> bool:
        return self.env == "production"


def _int(environ, name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _on_off(environ, name: str, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in ("on", "off"):
        raise ConfigError(f"{name} must be on or off, got {raw!r}")
    return raw == "on"


def _float(environ, name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def _notice_settings(environ) -> NoticeSettings:
    defaults = NoticeSettings()
    values = {}
    for name, variable in NOTICE_ENVIRONMENT.items():
        default = getattr(defaults, name)
        read = _int if isinstance(default, int) else _float
        values[name] = read(environ, variable, default)
    return NoticeSettings(**values)


def _sentinels(raw: str) -> tuple:
    """`host1:26379,host2:26379` → ((host1, 26379), (host2, 26379))."""
    found = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"REDIS_SENTINELS must be host:port,…; got {item!r}")
        found.append((host, int(port)))
    return tuple(found)


def _s3_settings(environ) -> S3Settings:
    style = environ.get("S3_ADDRESSING_STYLE", "").strip() or "path"
    if style not in ("path", "virtual"):
        raise ConfigError(f"S3_ADDRESSING_STYLE must be path or virtual, got {style!r}")
    return S3Settings(
        bucket=environ.get("S3_BUCKET", "").strip(),
        prefix=environ.get("S3_PREFIX", "").strip(),
        endpoint_url=environ.get("S3_ENDPOINT_URL", "").strip(),
        region=environ.get("S3_REGION", "").strip() or "us-east-1",
        access_key_id=environ.get("S3_ACCESS_KEY_ID", "").strip(),
        secret_access_key=environ.get("S3_SECRET_ACCESS_KEY", "").strip(),
        addressing_style=style,
        url_expires=_int(environ, "S3_URL_EXPIRES", 300),
    )


def _wechat_app(environ, kind: str, sandbox: bool) -> WechatApp:
    prefix = f"WECHAT_{kind.upper()}_"
    defaults = SANDBOX_APPS[kind] if sandbox else {}
    values = {
        key: environ.get(prefix + key.upper(), "").strip() or defaults.get(key, "")
        for key in ("appid", "secret", "token", "aes_key")
    }
    return WechatApp(kind=kind, **values)


# Development only: production refuses to start without PHONE_KEY (issue 11).
DEV_PHONE_KEY = "1:ZGV2LW9ubHktcGhvbmUta2V5LWNoYW5nZS1tZS0zMmI="


def _phone_keys(environ, env: str) -> tuple:
    """`PHONE_KEY`: `<id>:<base64 32 bytes>` entries, comma-separated, the first one current
    (the others only decrypt, during a rotation; docs/privacy.md)."""
    raw = environ.get("PHONE_KEY", "").strip() or (DEV_PHONE_KEY if env != "production" else "")
    keys = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        key_id, _, secret = item.partition(":")
        if not key_id.isdigit() or not secret:
            raise ConfigError("PHONE_KEY entries look like 1:<base64 of 32 bytes>")
        keys.append((int(key_id), secret))
    return tuple(keys)


def load_settings(environ=None) -> Settings:
    """Read and check the environment; raise ConfigError on anything unsafe."""
    environ = os.environ if environ is None else environ
    env = environ.get("APP_ENV", "development").strip() or "development"
    if env not in ("development", "production"):
        raise ConfigError(f"APP_ENV must be development or production, got {env!r}")
    instance_dir = Path(environ.get("INSTANCE_DIR") or ROOT / "instance").resolve()
    sandbox = not (environ.get("WECHAT_MP_APPID") or environ.get("WECHAT_WXA_APPID"))
    sandbox_port = _int(environ, "SANDBOX_PORT", 5055)
    port = _int(environ, "PORT", 5000)
    redis_url = environ.get("REDIS_URL", "").strip()
    sentinels = _sentinels(environ.get("REDIS_SENTINELS", ""))
    public_base_url = (environ.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{port}").rstrip("/")
    settings = Settings(
        env=env,
        secret_key=environ.get("SECRET_KEY", "").strip() or DEFAULT_SECRET_KEY,
        database_url=environ.get("DATABASE_URL", "").strip()
        or f"sqlite:///{instance_dir / 'campaign.db'}",
        redis_url=redis_url or f"redis://127.0.0.1:{_int(environ, 'EMBEDDED_REDIS_PORT', 6390)}/0",
        embedded_redis=not redis_url and not sentinels,
        public_base_url=public_base_url,
        media_base_url=(environ.get("MEDIA_BASE_URL") or public_base_url).rstrip("/"),
        instance_dir=instance_dir,
        storage_dir=Path(environ.get("STORAGE_DIR") or instance_dir / "storage").resolve(),
        port=port,
        log_level=environ.get("LOG_LEVEL", "INFO").upper(),
        db_pool_size=_int(environ, "DB_POOL_SIZE", 10),
        db_prepare=_on_off(environ, "DB_PREPARE", True),
        upload_max_mb=_int(environ, "UPLOAD_MAX_MB", 200),
        wechat_api_base=(
            environ.get("WECHAT_API_BASE", "").strip()
            or (f"http://127.0.0.1:{sandbox_port}" if sandbox else "")
        ).rstrip("/"),
        wechat_sandbox=sandbox,
        sandbox_port=sandbox_port,
        mp=_wechat_app(environ, "mp", sandbox),
        wxa=_wechat_app(environ, "wxa", sandbox),
        wxa_page=environ.get("WECHAT_WXA_PAGE", "pages/index/index"),
        wxa_env_version=environ.get("WECHAT_WXA_ENV_VERSION", "release"),
        callback_max_age=_int(environ, "WECHAT_CALLBACK_MAX_AGE", 300),
        rq_worker_ttl=_int(environ, "RQ_WORKER_TTL", 60),
        rq_maintenance_interval=_int(environ, "RQ_MAINTENANCE_INTERVAL", 30),
        wechat_mp_qr_budget=_int(environ, "WECHAT_MP_QR_BUDGET", 100_000),
        poster_font=environ.get("POSTER_FONT", "").strip(),
        prometheus_multiproc_dir=environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip(),
        notices=_notice_settings(environ),
        s3=_s3_settings(environ),
        redis_sentinels=sentinels,
        redis_sentinel_master=environ.get("REDIS_SENTINEL_MASTER", "").strip() or "mymaster",
        redis_sentinel_password=environ.get("REDIS_SENTINEL_PASSWORD", ""),
        rate_login_per_ip=_int(environ, "RATE_LOGIN_PER_IP", 30),
        rate_upload_per_user=_int(environ, "RATE_UPLOAD_PER_USER", 60),
        rate_text_count_per_ip=_int(environ, "RATE_TEXT_COUNT_PER_IP", 120),
        rate_form_per_ip=_int(environ, "RATE_FORM_PER_IP", 10),
        scan_repeat_minutes=_int(environ, "SCAN_REPEAT_MINUTES", 30),
        phone_keys=_phone_keys(environ, env),
        retention_contact_days=_int(environ, "RETENTION_CONTACT_DAYS", 180),
        retention_log_days=_int(environ, "RETENTION_LOG_DAYS", 180),
    )
    if settings.production:
        _refuse_unsafe_production(settings)
    return settings


def _refuse_unsafe_production(settings: Settings) -> None:
    """Production must not run on development defaults (DESIGN §7)."""
    problems = []
    if settings.secret_key == DEFAULT_SECRET_KEY or len(settings.secret_key) < 32:
        problems.append("SECRET_KEY is missing, default or shorter than 32 characters")
    if settings.embedded_redis:
        problems.append("neither REDIS_URL nor REDIS_SENTINELS is set")
    if settings.database_url.startswith("sqlite"):
        problems.append("DATABASE_URL is not set (SQLite is for development only)")
    if settings.wechat_sandbox:
        problems.append("WeChat credentials are not set (the sandbox is for development only)")
    if not settings.phone_keys:
        problems.append("PHONE_KEY is not set (phone numbers are encrypted with it)")
    if problems:
        raise ConfigError("refusing to start in production: " + "; ".join(problems))


_current: Settings | None = None


def install(settings: Settings) -> None:
    """Make `settings` the ones every part of this process reads (`runtime.bootstrap`)."""
    global _current
    _current = settings


def current_settings() -> Settings:
    """The one way code reaches the settings: those `runtime.bootstrap()` installed."""
    if _current is None:
        raise RuntimeError("runtime.bootstrap() has not run")
    return _current
