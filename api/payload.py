"""Reading request bodies: one place that turns a bad body into a clear 4xx."""

from flask import request

from api.errors import ApiError


def json_object() -> dict:
    """The request's JSON object, or 400 `invalid_json` (never a 500)."""
    data = request.get_json(silent=True)
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
