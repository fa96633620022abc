"""The safe-mode envelope (`wechat.safemode`) against wechatpy's, both ways, and refusals."""

import base64
import struct

import pytest
import xmltodict
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from wechatpy.crypto import WeChatCrypto

from config import WechatApp
from tests import pushes
from wechat.safemode import SafeMode, Undecryptable, cdata


@pytest.fixture
def mp(settings):
    return settings.mp


def test_opens_what_wechatpy_seals(mp):
    crypto = WeChatCrypto(mp.token, mp.aes_key, mp.appid)
    for text in ("<xml><A>1</A></xml>", "中文" * 40, "x" * 27, "y" * 28):  # every padding
        envelope = xmltodict.parse(crypto.encrypt_message(text, "n", "1"))["xml"]
        assert SafeMode(mp).open(envelope["Encrypt"]) == text.encode()


def test_wechatpy_opens_what_it_seals(mp):
    for text in ("<xml><Content><![CDATA[您好]]></Content></xml>", "z" * 28):
        sealed = SafeMode(mp).seal(text, "nonce-1", "1700000000")
        envelope = xmltodict.parse(sealed)["xml"]
        assert envelope["TimeStamp"] == "1700000000" and envelope["Nonce"] == "nonce-1"
        expected = pushes.sha1_sorted(mp.token, "1700000000", "nonce-1", envelope["Encrypt"])
        assert envelope["MsgSignature"] == expected
        crypto = WeChatCrypto(mp.token, mp.aes_key, mp.appid)
        opened = crypto.decrypt_message(sealed, expected, "1700000000", "nonce-1")
        assert opened == text


def _raw_sealed(mp, plain: bytes) -> str:
    key = base64.b64decode(mp.aes_key + "=")
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


@pytest.mark.parametrize(
    "make",
    [
        lambda mp: "not base64!",
        lambda mp: base64.b64encode(b"short").decode(),
        lambda mp: _raw_sealed(mp, b"\0" * 64),  # padding byte 0
        lambda mp: _raw_sealed(mp, b"\0" * 63 + b"\x21"),  # padding 33 > 32
        lambda mp: _raw_sealed(mp, b"r" * 16 + struct.pack(">I", 500) + b"x" * 12 + b"\x04" * 32),
        lambda mp: _raw_sealed(
            mp, b"r" * 16 + struct.pack(">I", 1) + b"x" + b"wx-other" + b"\x03" * 3
        ),  # another app's message
    ],
)
def test_refuses_what_is_not_for_this_app(mp, make):
    with pytest.raises(Undecryptable):
        SafeMode(mp).open(make(mp))


def test_a_misconfigured_key_refuses_instead_of_crashing():
    with pytest.raises(Undecryptable):
        SafeMode(WechatApp("mp", "wx1", "s", "t", "too-short"))


def test_cdata_cannot_be_closed_from_inside():
    wrapped = f"<xml><C>{cdata('a]]><b>x</b>')}</C></xml>"
    assert xmltodict.parse(wrapped)["xml"]["C"] == "a]]><b>x</b>"
