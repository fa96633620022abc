"""Validation problems: one shape for every field-level error, with a Chinese message.

`{"field": "abstract", "code": "too_short", "message": "字数不足", "count": 150, "min": 200}`:
the code is for programs and never changes, the message is for the person typing.
"""

PROBLEM_MESSAGES = {
    "required": "此项为必填项",
    "too_short": "字数不足",
    "too_long": "字数超出上限",
    "invalid_choice": "选项无效",
    "invalid_type": "格式不正确",
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
    message = messages.get(code) or PROBLEM_MESSAGES[code]
    return {"field": field, "code": code, "message": message, **details}


def is_whole_number(value) -> bool:
    """A JSON integer (JSON `true` is not one, though Python's bool is an int)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_row_id(value) -> bool:
    """An integer a row id can be: anything else (a string, a bool, 10**30) is no row, never a
    database overflow."""
    return is_whole_number(value) and 0 < value < 2**31


# --- refusals: what the rules raise, mapped to HTTP in one place (api/errors.py) ------------


class Invalid(Exception):
    """Input that breaks the rules: 422, listing every problem at once.

    The top-level message says what went wrong: the one problem's own message, or how many
    there are and the first of them, so "after the deadline" is never just "not valid".
    """

    status = 422

    def __init__(self, problems: list[dict], message: str = "", code: str = "validation_failed"):
        super().__init__(code)
        self.problems = problems
        self.code = code
        self.message = message or summary(problems)


class Refused(Exception):
    """A well-formed request that the current state refuses (409 unless told otherwise)."""

    def __init__(self, code: str, message: str, status: int = 409, fields=None):
        super().__init__(code)
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or []


class NotFound(Refused):
    """Missing, or not the caller's: the two look the same, so ids cannot be probed."""

    def __init__(self, code: str = "not_found", message: str = "请求的内容不存在"):
        super().__init__(code, message, status=404)


def summary(problems: list[dict]) -> str:
    """One sentence for a list of problems: the first problem's message, and how many more."""
    if not problems:
        return "提交的内容未通过校验"
    first = problems[0].get("message") or "提交的内容未通过校验"
    if len(problems) == 1:
        return first
    return f"有 {len(problems)} 处需要修改：{first}等"


def refuse_if(problems: list[dict], message: str = "") -> None:
    """Raise `Invalid` when there is anything to say; the one way a rule gives up on input."""
    if problems:
        raise Invalid(problems, message)
