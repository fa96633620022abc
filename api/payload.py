"""Reading request bodies: one place that turns a bad body into a clear 4xx."""

from flask import request

from api.errors import ApiError
from campaign.problems import Invalid, problem


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
    if not isinstance(value, str) or (required and not value.strip()):
        problems.append(required_problem(field) if not value else problem(field, "invalid_type"))
        return ""
    value = " ".join(value.split())
    if len(value) > limit:
        problems.append(problem(field, "too_long", max=limit))
    return value


def boolean_field(data: dict, field: str, problems: list) -> bool:
    """A JSON boolean, or a problem appended."""
    if not isinstance(data.get(field), bool):
        problems.append(problem(field, "invalid_type"))
        return False
    return data[field]
