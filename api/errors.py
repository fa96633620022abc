"""One error shape for every 4xx and 5xx (DESIGN §9).

`{"error": {"code": "<stable_snake_case>", "message": "<Chinese>", "fields": [...]}}`:
codes are for programs and never change; messages are for the people using WeChat.
"""

import logging

from flask import Blueprint, jsonify
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from werkzeug.exceptions import HTTPException

from campaign.problems import Invalid, Refused

bp = Blueprint("errors", __name__)
log = logging.getLogger(__name__)

# Werkzeug's HTTP errors, as stable codes and Chinese messages.
HTTP_ERRORS = {
    400: ("bad_request", "请求格式不正确"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "没有权限进行此操作"),
    404: ("not_found", "请求的内容不存在"),
    405: ("method_not_allowed", "不支持该请求方式"),
    409: ("conflict", "操作冲突，请刷新后重试"),
    413: ("payload_too_large", "提交的内容过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
    422: ("validation_failed", "提交的内容未通过校验"),
    429: ("too_many_requests", "操作过于频繁，请稍后再试"),
    500: ("internal_error", "服务器开小差了，请稍后再试"),
    503: ("unavailable", "服务暂时不可用，请稍后再试"),
}


class ApiError(Exception):
    """An error meant for the client: raise it anywhere in a request."""

    def __init__(self, status: int, code: str, message: str, fields=None, headers=None):
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or []
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, fields=None, headers=None):
    body = {"error": {"code": code, "message": message, "fields": fields or []}}
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


@bp.app_errorhandler(ApiError)
def _api_error(error: ApiError):
    return error_response(error.status, error.code, error.message, error.fields, error.headers)


@bp.app_errorhandler(Invalid)
def _invalid(error: Invalid):
    return error_response(error.status, error.code, error.message, error.problems)


@bp.app_errorhandler(Refused)
def _refused(error: Refused):
    return error_response(error.status, error.code, error.message, error.fields)


@bp.app_errorhandler(HTTPException)
def _http_error(error: HTTPException):
    code, message = HTTP_ERRORS.get(error.code or 500, ("http_error", "请求无法处理"))
    methods = getattr(error, "valid_methods", None)
    headers = {"Allow": ", ".join(methods)} if methods else None
    return error_response(error.code or 500, code, message, headers=headers)


# Redis (queues, sessions' rate limits, buffers) being unreachable is an outage, not a bug:
# the client may retry, and nothing was half-saved (issue 11).
SERVICE_UNAVAILABLE = ("service_unavailable", "服务暂时繁忙，请稍后再试")
RETRY_AFTER_SECONDS = 30


def service_unavailable() -> ApiError:
    code, message = SERVICE_UNAVAILABLE
    return ApiError(503, code, message, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


@bp.app_errorhandler(RedisConnectionError)
@bp.app_errorhandler(RedisTimeoutError)
def _redis_down(error: Exception):
    log.warning("Redis unavailable: %s", error)
    unavailable = service_unavailable()
    return error_response(503, unavailable.code, unavailable.message, headers=unavailable.headers)


@bp.app_errorhandler(Exception)
def _unexpected(error: Exception):
    log.exception("unhandled error")
    code, message = HTTP_ERRORS[500]
    return error_response(500, code, message)
