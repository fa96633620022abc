"""Phone numbers encrypted at rest, with a keyed hash to find them (issue 11; PIPL Art. 51).

A stored phone number is `<blind index>$enc1:<key id>:<base64 nonce+ciphertext>`:

- the ciphertext is AES-256-GCM under the current `PHONE_KEY` (random 96-bit nonce, the
  string "phone" as associated data), so a database dump or backup shows no number;
- the blind index is HMAC-SHA256 of the normalized number under a search key derived from
  the same key, 24 hex digits: equal numbers have equal indexes, so a search is a prefix
  match on the column (`campaign.phones.search_condition`) and never decrypts a row.

`PHONE_KEY` holds one or more `<id>:<base64 of 32 bytes>` keys, the current one first. Rows
name the key that sealed them, so during a rotation old rows still open; `flask privacy
rekey` (campaign.phones.rekey) re-seals every row under the current key (and re-indexes),
after which the old key can go. docs/privacy.md has the procedure.

This module knows nothing of the database: `models.SealedPhoneField` calls it.
"""

import base64
import hashlib
import hmac
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SCHEME = "enc1"
SEPARATOR = "$"
INDEX_LENGTH = 24
ASSOCIATED = b"phone"
SEALED = re.compile(r"^[0-9a-f]{24}\$enc1:\d+:[A-Za-z0-9+/=]+$")

_keys: dict[int, bytes] = {}
_current: list[int] = []


class PhoneKeyError(RuntimeError):
    """No key, a malformed key, or a row sealed under a key that is no longer configured."""


def configure(keys) -> None:
    """Install `(id, base64 key)` pairs, the first one current (runtime.bootstrap calls it)."""
    decoded = {}
    for key_id, secret in keys:
        raw = base64.b64decode(secret)
        if len(raw) != 32:
            raise PhoneKeyError(f"PHONE_KEY {key_id} must be 32 bytes of base64")
        decoded[int(key_id)] = raw
    _keys.clear()
    _keys.update(decoded)
    _current[:] = [int(keys[0][0])] if keys else []


def _current_key() -> tuple[int, bytes]:
    if not _current:
        raise PhoneKeyError("PHONE_KEY is not configured")
    return _current[0], _keys[_current[0]]


def blind_index(phone: str) -> str:
    """The keyed hash of a (normalized) phone number under the current key."""
    _, key = _current_key()
    search_key = hmac.new(key, b"phone-search-index", hashlib.sha256).digest()
    digest = hmac.new(search_key, phone.strip().encode(), hashlib.sha256).hexdigest()
    return digest[:INDEX_LENGTH]


def is_sealed(value) -> bool:
    return isinstance(value, str) and bool(SEALED.match(value))


def seal(phone: str | None) -> str | None:
    """The stored form of `phone` ("" and None stay as they are; sealed values pass)."""
    if not phone or is_sealed(phone):
        return phone
    key_id, key = _current_key()
    nonce = os.urandom(12)
    body = base64.b64encode(nonce + AESGCM(key).encrypt(nonce, phone.encode(), ASSOCIATED))
    return f"{blind_index(phone)}{SEPARATOR}{SCHEME}:{key_id}:{body.decode()}"


def unseal(value: str | None) -> str | None:
    """The phone number of a stored value; a legacy plaintext value is returned as is."""
    if not is_sealed(value):
        return value
    _, sealed = value.split(SEPARATOR, 1)
    _, key_id, body = sealed.split(":", 2)
    key = _keys.get(int(key_id))
    if key is None:
        raise PhoneKeyError(f"phone sealed under key {key_id}, which PHONE_KEY no longer has")
    raw = base64.b64decode(body)
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], ASSOCIATED).decode()
    except InvalidTag:
        raise PhoneKeyError(f"phone sealed under key {key_id} does not open") from None


def sealed_with_current(value: str | None) -> bool:
    """Whether a stored value is already sealed under the current key (rekey skips it)."""
    if not is_sealed(value):
        return not value
    return value.split(SEPARATOR, 1)[1].split(":")[1] == str(_current_key()[0])
