"""How often the public may file objections: per client address and per phone number.

Counted by the fixed-window limits every other rule uses (tasks.limits), per the same client
address (api.ratelimits.client_ip, nginx's X-Real-IP); a phone number is hashed into its key,
as every identity is. The limits bound abuse, not honest use: an objection is real-name and
read by a person, so when Redis is down the form stays open."""

from redis import RedisError

from api.ratelimits import client_ip
from tasks import limits

LIMITS = (("ip", 5, 600), ("phone", 3, 86400))  # 5 per 10 minutes per address; 3 a day per phone


def objection_allowed(phone) -> bool:
    """Count this attempt; False once the address or the phone is over its limit."""
    phone = phone.strip()[:32] if isinstance(phone, str) else ""
    address = client_ip()
    keys = {
        "ip": address and f"ip:{address}",  # no peer address (a Unix socket): not counted
        "phone": phone and limits.identity_key("phone", phone),
    }
    try:
        for name, limit, seconds in LIMITS:
            if keys[name] and not limits.hit(f"objection:{keys[name]}", limit, seconds).allowed:
                return False
    except RedisError:
        return True
    return True
