"""WeChat's error codes, as the errors our clients see (stable code, Chinese message)."""

import logging

from api.errors import ApiError

log = logging.getLogger(__name__)

KNOWN = {
    40029: (400, "invalid_code", "登录凭证无效或已过期，请重新进入小程序"),
    40163: (400, "code_used", "登录凭证已使用，请重新进入小程序"),
    45011: (429, "too_many_requests", "操作过于频繁，请稍后再试"),
    40226: (403, "wechat_user_blocked", "该微信账号暂时无法使用此功能"),
}
UNAVAILABLE = (503, "wechat_unavailable", "微信服务繁忙，请稍后再试")


def wechat_error(errcode, errmsg="") -> ApiError:
    """The ApiError for a WeChat errcode; unknown ones are logged and shown as unavailable."""
    status, code, message = KNOWN.get(errcode, UNAVAILABLE)
    if errcode not in KNOWN:
        log.warning("wechat error", extra={"fields": {"errcode": errcode, "errmsg": errmsg}})
    return ApiError(status, code, message)
