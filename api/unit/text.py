"""`POST /api/v1/text/count`: the server's 字数, so clients can check their own counter."""

from flask import Blueprint, jsonify

from api.errors import ApiError
from api.payload import json_object
from api.ratelimits import rate_limited
from campaign.entries.wordcount import count_zi

bp = Blueprint("text_api", __name__, url_prefix="/api/v1")


@bp.post("/text/count")
@rate_limited("text_count")
def count_text():
    text = json_object().get("text")
    if not isinstance(text, str):
        raise ApiError(
            422, "validation_failed", "请提供要统计的文本", [{"field": "text", "code": "required"}]
        )
    return jsonify(count=count_zi(text))
