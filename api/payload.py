"""Reading request bodies: one place that turns a bad body into a clear 4xx.

Every JSON body the app reads goes through `StrictJSONProvider.loads` (installed by
`install`), so no handler ever sees what would crash it later: a lone UTF-16 surrogate
(`"\\ud800"`, which neither the database drivers nor UTF-8 can carry), a NUL (PostgreSQL
text refuses it), nesting deeper than MAX_DEPTH (Python's parser raises RecursionError
near 1,000 levels), or an array or object of more than MAX_MEMBERS members. Endpoints set
tighter limits on their own lists and maps (docs/hardening.md lists them).
"""

import json
import re

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from flask.wrappers import Request

from api.errors import ApiError

MAX_DEPTH = 20
MAX_MEMBERS = 10_000  # the largest list an endpoint takes: a notice's explicit users
UNCARRIABLE = re.compile("[\ud800-\udfff\x00]")


class HostileJson(ValueError):
    """Well-formed JSON that the service refuses to handle; `code` says why."""

    MESSAGES = {
        "invalid_text": "提交的文字中含有无法识别的字符",
        "too_deep": "提交的内容层级过深",
        "too_many_items": "提交的内容条目过多",
        "invalid_json": "请求内容不是有效的 JSON",
    }

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code
        self.message = self.MESSAGES[code]


def inspect(value) -> None:
    """Raise HostileJson unless every string is carriable and every container is small and
    shallow. Iterative, so it cannot itself run out of stack."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if UNCARRIABLE.search(item):
                raise HostileJson("invalid_text")
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            raise HostileJson("too_deep")
        if len(item) > MAX_MEMBERS:
            raise HostileJson("too_many_items")
        if isinstance(item, dict):
            stack.extend((key, depth) for key in item)
            stack.extend((member, depth + 1) for member in item.values())
        else:
            stack.extend((member, depth + 1) for member in item)


def strict_loads(text: str | bytes):
    """`json.loads`, then `inspect`; any refusal is a HostileJson (a ValueError)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise HostileJson("too_deep") from None
    except (ValueError, TypeError):
        raise HostileJson("invalid_json") from None
    inspect(value)
    return value


class StrictJSONProvider(DefaultJSONProvider):
    def loads(self, s, **kwargs):
        return strict_loads(s)


class StrictRequest(Request):
    def on_json_loading_failed(self, e: ValueError | None):
        if isinstance(e, HostileJson):
            raise ApiError(400, e.code, e.message)
        if e is None:  # not a JSON content type
            raise ApiError(415, "unsupported_media_type", "请以 JSON 格式提交")
        raise ApiError(400, "invalid_json", HostileJson.MESSAGES["invalid_json"])


def refuse_uncarriable_query() -> None:
    """Query strings too: a NUL in `?status=` would reach PostgreSQL, which refuses it."""
    for values in request.args.listvalues():
        if any(UNCARRIABLE.search(value) for value in values):
            raise ApiError(400, "invalid_text", HostileJson.MESSAGES["invalid_text"])


def install(app: Flask) -> None:
    """Make every `request.get_json()` and query string of `app` strict."""
    app.request_class = StrictRequest
    app.json = StrictJSONProvider(app)
    app.before_request(refuse_uncarriable_query)


def json_object() -> dict:
    """The request's JSON object, or 400 with a code saying why (never a 500)."""
    if not request.is_json:
        raise ApiError(400, "invalid_json", "请求内容必须是 JSON 对象")
    data = request.get_json()
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "请求内容必须是 JSON 对象")
    return data


def too_many(field: str, limit: int) -> ApiError:
    """422 for a client list or map longer than its documented limit."""
    return ApiError(
        422,
        "validation_failed",
        "提交的内容未通过校验",
        [{"field": field, "code": "too_many", "max": limit, "message": f"最多 {limit} 项"}],
    )


def required_string(data: dict, field: str, max_length: int = 100_000) -> str:
    """A required string field, or 422 naming the field."""
    value = data.get(field)
    if not isinstance(value, str) or not value:
        raise ApiError(
            422, "validation_failed", "提交的内容未通过校验", [{"field": field, "code": "required"}]
        )
    if len(value) > max_length:
        raise ApiError(
            422,
            "validation_failed",
            "提交的内容未通过校验",
            [{"field": field, "code": "too_long", "max": max_length}],
        )
    return value
