"""WeChat's safe-mode message envelope, written independently of wechatpy.

The sandbox encrypts what it pushes and checks what the service replies with this code,
built straight on `cryptography`, so a bug shared by both directions of wechatpy cannot make a
broken service look correct.

The format: key = b64decode(EncodingAESKey + "="), iv = key[:16]; plaintext = 16 random
characters + big-endian uint32 length + message + appid, PKCS#7-padded to 32-byte blocks,
AES-256-CBC, base64. Signatures are sha1 over the sorted, concatenated parts (token,
timestamp, nonce and, for messages, the Encrypt value).
"""

import base64
import binascii
import hashlib
import hmac
import secrets
import string
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PAD_BLOCK = 32
PREFIX_LENGTH = 16
_PREFIX_ALPHABET = string.ascii_letters + string.digits


class EnvelopeError(ValueError):
    """An envelope that is not base64, does not decrypt and unpad, or names another appid."""


def signature(*parts: str) -> str:
    """WeChat's signature: sha1 of the parts sorted and concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signature_matches(candidate: str, *parts: str) -> bool:
    """Compare a received signature with the expected one in constant time."""
    return hmac.compare_digest(candidate.encode(), signature(*parts).encode())


class Envelope:
    """Seal and open messages for one app (its token, EncodingAESKey and appid)."""

    def __init__(self, token: str, aes_key: str, appid: str):
        self.token = token
        self.appid = appid
        self._key = aes_key_bytes(aes_key)

    def encrypt(self, message: str, prefix: str | None = None) -> str:
        """The base64 Encrypt value for a message; `prefix` fixes the random part for vectors."""
        body = message.encode()
        prefix = prefix or "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
        plain = prefix.encode() + struct.pack(">I", len(body)) + body + self.appid.encode()
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(_pad(plain)) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> str:
        """The message inside an Encrypt value, after checking its padding and appid tail."""
        try:
            sealed = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise EnvelopeError("Encrypt is not base64") from exc
        if not sealed or len(sealed) % 16:
            raise EnvelopeError("Encrypt is not whole AES blocks")
        decryptor = self._cipher().decryptor()
        return self._unwrap(_unpad(decryptor.update(sealed) + decryptor.finalize()))

    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        """The msg_signature (MsgSignature) over an Encrypt value."""
        return signature(self.token, timestamp, nonce, encrypted)

    def _unwrap(self, plain: bytes) -> str:
        header_end = PREFIX_LENGTH + 4
        if len(plain) < header_end:
            raise EnvelopeError("plaintext shorter than its header")
        (length,) = struct.unpack(">I", plain[PREFIX_LENGTH:header_end])
        body, tail = plain[header_end : header_end + length], plain[header_end + length :]
        if len(body) != length:
            raise EnvelopeError("length field runs past the plaintext")
        if not hmac.compare_digest(tail, self.appid.encode()):
            raise EnvelopeError("envelope names another appid")
        try:
            return body.decode()
        except UnicodeDecodeError as exc:
            raise EnvelopeError("message is not UTF-8") from exc

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))


def aes_key_bytes(aes_key: str) -> bytes:
    """The 32-byte AES key an EncodingAESKey (43 base64 characters) stands for."""
    try:
        key = base64.b64decode(aes_key + "=", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("EncodingAESKey must be 43 base64 characters") from exc
    if len(key) != 32:
        raise ValueError("EncodingAESKey must be 43 base64 characters")
    return key


def _pad(data: bytes) -> bytes:
    count = PAD_BLOCK - len(data) % PAD_BLOCK
    return data + bytes([count]) * count


def _unpad(data: bytes) -> bytes:
    count = data[-1]
    if not 1 <= count <= PAD_BLOCK or data[-count:] != bytes([count]) * count:
        raise EnvelopeError("bad PKCS#7 padding")
    return data[:-count]
