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
from campaign.names import clean_name
from campaign.problems import Invalid, problem

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
    def get_json(self, force=False, silent=False, cache=True):
        """`silent` forgives a body that is not JSON at all, never a hostile one: a lone
        surrogate, NUL, deep nesting or a huge list is refused wherever the body is read."""
        try:
            return super().get_json(force=force, silent=False, cache=cache)
        except ApiError as error:
            if silent and error.code in ("invalid_json", "unsupported_media_type"):
                return None
            raise

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


def optional_object() -> dict:
    """The request's JSON object, `{}` for an empty body or `null`; 400 for anything else."""
    if not request.get_data(cache=True).strip():
        return {}
    data = request.get_json(silent=True)
    if data is None and request.get_data(cache=True).strip() == b"null":
        return {}
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "请求内容必须是 JSON 对象")
    return data


def too_many(field: str, limit: int) -> ApiError:
    """422 for a client list or map longer than its documented limit."""
    return ApiError(
        422,
        "validation_failed",
        f"最多 {limit} 项",
        [{"field": field, "code": "too_many", "max": limit, "message": f"最多 {limit} 项"}],
    )


def required_string(data: dict, field: str, max_length: int = 100_000) -> str:
    """A required string field, or 422 naming the field."""
    value = data.get(field)
    if not isinstance(value, str) or not value:
        raise Invalid([required_problem(field)])
    if len(value) > max_length:
        raise Invalid([problem(field, "too_long", max=max_length)])
    return value


def required_problem(field: str) -> dict:
    return problem(field, "required")


def text_field(data: dict, field: str, problems: list, limit: int = 500, required=False) -> str:
    """A one-line text field with runs of whitespace collapsed; problems appended, not raised."""
    value = data.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not clean_name(value)):
        problems.append(required_problem(field) if not value else problem(field, "invalid_type"))
        return ""
    value = clean_name(value)
    if len(value) > limit:
        problems.append(problem(field, "too_long", max=limit))
    return value


def boolean_field(data: dict, field: str, problems: list) -> bool:
    """A JSON boolean, or a problem appended."""
    if not isinstance(data.get(field), bool):
        problems.append(problem(field, "invalid_type"))
        return False
    return data[field]
