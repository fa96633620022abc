"""Validation problems: one shape for every field-level error, with a Chinese message.

`{"field": "abstract", "code": "too_short", "message": "字数不足", "count": 150, "min": 200}`:
the code is for programs and never changes, the message is for the person typing.
"""

PROBLEM_MESSAGES = {
    "required": "此项为必填项",
    "too_short": "字数不足",
    "too_long": "字数超出上限",
    "invalid_choice": "选项无效",
    "evidence_missing": "请至少上传一份佐证材料（图片、视频、文档或媒体报道）",
    "unit_incomplete": "请先完善单位信息",
    "deadline_passed": "已过征集截止时间",
    "not_open": "征集尚未开始",
    "stage_closed": "征集阶段已结束",
    "late_code_invalid": "补报码无效或已过期",
    "invalid_phone": "请填写正确的手机号或座机号（如 0591-87808286）",
}


def problem(field: str, code: str, messages: dict = PROBLEM_MESSAGES, **details) -> dict:
    """One field problem; `messages` lets a rule set word its codes for its own audience."""
    return {"field": field, "code": code, "message": messages[code], **details}


def is_whole_number(value) -> bool:
    """A JSON integer (JSON `true` is not one, though Python's bool is an int)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_row_id(value) -> bool:
    """An integer a row id can be: anything else (a string, a bool, 10**30) is no row, never a
    database overflow."""
    return is_whole_number(value) and 0 < value < 2**31
