"""Validation problems of templates, notices and audiences, in the shape of
`campaign.problems` (`{"field", "code", "message", ...details}`), with the codes those
rules add. A code is for programs and never changes; the message is for the organizer.
"""

from campaign.problems import PROBLEM_MESSAGES, is_row_id, is_whole_number, problem

MESSAGES = {
    **PROBLEM_MESSAGES,
    "too_long": "内容超出长度上限",
    "invalid_format": "格式不符合微信模板的要求",
    "invalid_type": "格式不正确",
    "unknown_field": "模板中没有该字段",
    "not_found": "不存在或不属于本次活动",
    "too_many": "数量超出上限",
    "in_past": "时间已过，请选择将来的时间",
    "wrong_channel": "模板类型不适用于此处",
    "conflicting": "与其他条件冲突",
}


def notice_problem(field: str, code: str, **details) -> dict:
    return problem(field, code, MESSAGES, **details)


def is_scalar(value) -> bool:
    """A filter value: a string or a whole number (what JSON may nest is refused)."""
    return isinstance(value, str) or is_whole_number(value)


__all__ = ["MESSAGES", "is_row_id", "is_scalar", "notice_problem"]
