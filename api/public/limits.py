"""How often the public may file objections: per client address and per phone number, shared by
every web process (tasks.form_limit). The limits bound abuse, not honest use: an objection is
real-name and read by a person, so when Redis is down the form stays open."""

from flask import request
from redis import RedisError

from tasks.form_limit import FixedWindow
from tasks.queue import redis_connection

LIMITS = (("ip", 5, 600), ("phone", 3, 86400))  # 5 per 10 minutes per address; 3 a day per phone
TRUSTED_PROXIES = ("127.0.0.1", "::1")


def client_address() -> str:
    """The peer, or nginx's X-Forwarded-For (which it overwrites) when nginx is the peer."""
    peer = request.remote_addr or ""
    if peer in TRUSTED_PROXIES:
        return request.headers.get("X-Forwarded-For", peer).split(",")[0].strip()
    return peer


def objection_allowed(phone) -> bool:
    """Count this attempt; False once the address or the phone is over its limit."""
    phone = phone.strip()[:32] if isinstance(phone, str) else ""
    keys = {"ip": client_address(), "phone": phone}
    try:
        redis = redis_connection()
        for name, limit, seconds in LIMITS:
            window = FixedWindow(redis, f"objection:{name}", limit, seconds)
            if keys[name] and not window.allow(keys[name]):
                return False
    except RedisError:
        return True
    return True
