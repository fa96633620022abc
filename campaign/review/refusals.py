"""The two ways a review rule says no: `Invalid` (the input has problems, listed all at once:
422) and `Refused` (the action is not possible in this state: 409). The names match the
project's coming vocabulary, so the merge only has to re-point imports."""

REVIEW_MESSAGES = {
    "required": "此项为必填项",
    "invalid_choice": "选项无效",
    "invalid_type": "格式不正确",
    "out_of_range": "分值超出范围",
    "too_short": "字数不足",
    "too_long": "字数超出上限",
    "not_found": "对象不存在",
    "weights_total": "五项权重之和必须为 100",
    "conflict": "存在利益冲突（回避关系），不能分配",
    "over_cap": "该专家的评审数量已达上限",
    "over_quota": "已超过名额目标，请填写理由",
    "domain_mismatch": "作品领域不在该专家的评审领域内",
    "duplicate": "已存在",
}


class Invalid(Exception):
    def __init__(self, problems: list[dict]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


class Refused(Exception):
    def __init__(self, code: str, message: str, fields: list | None = None):
        super().__init__(code)
        self.code = code
        self.message = message
        self.fields = fields or []
