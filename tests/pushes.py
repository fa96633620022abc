"""Build WeChat pushes the way WeChat signs and encrypts them, with wechatpy's crypto.

The sandbox has its own independent envelope code; these helpers use wechatpy's, so the
callback endpoint is checked against two implementations (WECHAT-NOTES, last section).
"""

import hashlib
import json
import time

import xmltodict
from wechatpy.crypto import WeChatCrypto


def sha1_sorted(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def event_xml(openid: str, event: str, gh: str = "gh_test", created: int | None = None, **extra):
    fields = {
        "ToUserName": gh,
        "FromUserName": openid,
        "CreateTime": str(created or int(time.time())),
        "MsgType": "event",
        "Event": event,
        **extra,
    }
    return xmltodict.unparse({"xml": fields}, full_document=False)


def text_xml(openid: str, content: str, msg_id: str, gh: str = "gh_test") -> str:
    fields = {
        "ToUserName": gh,
        "FromUserName": openid,
        "CreateTime": str(int(time.time())),
        "MsgType": "text",
        "Content": content,
        "MsgId": msg_id,
    }
    return xmltodict.unparse({"xml": fields}, full_document=False)


def encrypted(app, plaintext: str, timestamp: int | None = None, nonce: str = "n0nce", fmt="xml"):
    """(query, body) of a safe-mode push of `plaintext` for `app` (a config.WechatApp)."""
    ts = str(timestamp or int(time.time()))
    crypto = WeChatCrypto(app.token, app.aes_key, app.appid)
    envelope = xmltodict.parse(crypto.encrypt_message(plaintext, nonce, ts))["xml"]
    query = {
        "signature": sha1_sorted(app.token, ts, nonce),
        "timestamp": ts,
        "nonce": nonce,
        "openid": "o",
        "encrypt_type": "aes",
        "msg_signature": envelope["MsgSignature"],
    }
    if fmt == "json":
        body = json.dumps({"ToUserName": "gh_test", "Encrypt": envelope["Encrypt"]})
    else:
        body = (
            "<xml><ToUserName><![CDATA[gh_test]]></ToUserName>"
            f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
        )
    return query, body.encode()


def plain(app, body: str, timestamp: int | None = None, nonce: str = "n0nce"):
    """(query, body) of a plaintext-mode push."""
    ts = str(timestamp or int(time.time()))
    query = {"signature": sha1_sorted(app.token, ts, nonce), "timestamp": ts, "nonce": nonce}
    return query, body.encode()


def open_reply(app, body: bytes) -> dict:
    """Verify and decrypt a safe-mode passive reply with wechatpy; return the reply dict."""
    envelope = xmltodict.parse(body)["xml"]
    crypto = WeChatCrypto(app.token, app.aes_key, app.appid)
    xml = crypto.decrypt_message(
        body, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"]
    )
    return xmltodict.parse(xml)["xml"]
