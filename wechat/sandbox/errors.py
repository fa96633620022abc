"""WeChat's error replies, worded as the real servers word them.

Every failure the sandbox reports through a WeChat endpoint is a `WeChatError`. The endpoint
layer turns it into `{"errcode": N, "errmsg": "... rid: ..."}` with HTTP 200, because WeChat
reports errors in the body, never with an HTTP status. Codes WeChat does not document for a
case are chosen here and listed in docs/sandbox.md.
"""

import secrets
import time

MESSAGES = {
    -1: "system error",
    10003: "redirect_uri domain mismatch",
    10005: "scope unauthorized",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40029: "invalid code",
    40037: "invalid template_id",
    40052: "invalid action name",
    40053: "invalid action info, please check document",
    40066: "invalid url",
    40125: "invalid appsecret",
    40163: "code been used",
    40169: "invalid length for scene, or the data is not json string",
    41001: "access_token missing",
    41030: "invalid page",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    43004: "require subscribe",
    43101: "user refuse to accept the msg",
    44002: "empty post data",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
    45029: "qrcode count out of limit",
    47001: "data format error",
    47003: "argument invalid!",
    48001: "api unauthorized",
    76021: "cgi_path not found",
    87014: "risky content",
}


def new_rid() -> str:
    """An id shaped like the one WeChat appends to every errmsg (and uses as a trace_id)."""
    return f"{int(time.time()):08x}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"


class WeChatError(Exception):
    """A WeChat API failure: an errcode and WeChat's message for it (or a more precise one)."""

    def __init__(self, errcode: int, message: str | None = None):
        self.errcode = errcode
        self.message = message or MESSAGES.get(errcode, "sandbox fault")
        super().__init__(f"{errcode} {self.message}")

    def as_reply(self) -> dict:
        """The JSON body WeChat answers with, including a fresh rid."""
        return {"errcode": self.errcode, "errmsg": f"{self.message} rid: {new_rid()}"}
