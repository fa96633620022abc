"""WeChat's safe-mode envelope, with the cipher built once per app (the callback hot path).

The format (WeChat's "消息加解密" and wechatpy's `PrpCrypto`): AES-256-CBC, the key being
`EncodingAESKey` + "=" base64-decoded and the IV its first 16 bytes; the plaintext is 16
random bytes, the message length (4 bytes, network order), the message, the appid, padded
PKCS#7-style to a multiple of 32 bytes. wechatpy rebuilds its cipher for every message,
checks the signature a second time and re-parses the envelope; profiled under gunicorn that
was a fifth of the callback's CPU. Tests open what this seals with wechatpy and the sandbox's
own envelope code, and the other way round.
"""

import base64
import functools
import hashlib
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from config import WechatApp

BLOCK = 32  # WeChat pads to 32 bytes, not AES' 16


class Undecryptable(ValueError):
    """Bad base64, length, padding, message length or appid: not a message for this app."""


class SafeMode:
    """One app's envelope: `open` a push's `Encrypt`, `seal` a passive reply."""

    def __init__(self, app: WechatApp):
        try:
            key = base64.b64decode(app.aes_key + "=", validate=True)
        except ValueError:
            key = b""
        if len(key) != 32:  # a misconfigured app: no push can be opened
            raise Undecryptable("EncodingAESKey must be 43 characters of base64")
        self.cipher = Cipher(algorithms.AES(key), modes.CBC(key[:16]))
        self.appid = app.appid.encode()
        self.token = app.token

    def open(self, encrypt: str) -> bytes:
        """The message inside `encrypt` (XML or JSON bytes); raise Undecryptable."""
        try:
            raw = base64.b64decode(encrypt, validate=True)
        except ValueError as exc:
            raise Undecryptable("base64") from exc
        if not raw or len(raw) % 16:
            raise Undecryptable("length")
        decryptor = self.cipher.decryptor()
        plain = decryptor.update(raw) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or len(plain) < 20 + pad:
            raise Undecryptable("padding")
        content = plain[16:-pad]
        (length,) = struct.unpack(">I", content[:4])
        if length > len(content) - 4 or content[4 + length :] != self.appid:
            raise Undecryptable("appid")
        return content[4 : 4 + length]

    def seal(self, xml: str, nonce: str, timestamp: str) -> str:
        """The encrypted reply envelope WeChat expects for `xml`."""
        text = xml.encode()
        body = os.urandom(16) + struct.pack(">I", len(text)) + text + self.appid
        pad = BLOCK - len(body) % BLOCK
        encryptor = self.cipher.encryptor()
        sealed = encryptor.update(body + bytes([pad]) * pad) + encryptor.finalize()
        encrypt = base64.b64encode(sealed).decode()
        signature = hashlib.sha1("".join(sorted((self.token, timestamp, nonce, encrypt))).encode())
        return (
            f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{signature.hexdigest()}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce>{cdata(nonce)}</Nonce></xml>"
        )


@functools.lru_cache(maxsize=8)
def safe_mode(app: WechatApp) -> SafeMode:
    """The app's envelope, built once per process (settings are frozen dataclasses)."""
    return SafeMode(app)


def cdata(text: str) -> str:
    """`text` as CDATA; a `]]>` inside is split across two sections so it cannot close it."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"
