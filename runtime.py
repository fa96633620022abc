"""Wires the process-wide singletons (settings, database, Redis, WeChat) in one function.

Every entry point calls `bootstrap()`: the web app factory, the RQ worker, the periodic
scheduler and the CLI. Nothing here imports Flask.
"""

import sealing as crypto
from config import Settings, install, load_settings
from logs import configure_logging
from models import init_db
from storage import init_storage
from tasks.queue import init_redis
from wechat.client import init_wechat


def bootstrap(settings: Settings | None = None, redis_socket_timeout: float | None = 5.0):
    """Read settings (unless given), then connect the database, storage, Redis and WeChat."""
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    settings.storage_dir.mkdir(parents=True, exist_ok=True)
    init_db(settings.database_url, settings.db_pool_size, settings.db_prepare)
    init_storage(settings.storage_dir, settings.s3)
    crypto.configure(settings.phone_keys)
    sentinel = None
    if settings.redis_sentinels:
        sentinel = (
            settings.redis_sentinels,
            settings.redis_sentinel_master,
            settings.redis_sentinel_password,
        )
    redis = init_redis(settings.redis_url, socket_timeout=redis_socket_timeout, sentinel=sentinel)
    init_wechat(settings, redis)
    install(settings)
    return settings
