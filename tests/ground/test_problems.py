"""The refusal vocabulary itself: field problems, the top-level message, row ids."""

import pytest

from campaign.problems import (
    Invalid,
    NotFound,
    Refused,
    is_row_id,
    is_whole_number,
    problem,
    refuse_if,
    summary,
)


def test_a_problem_carries_code_chinese_message_and_details():
    assert problem("abstract", "too_short", count=150, min=200) == {
        "field": "abstract",
        "code": "too_short",
        "message": "字数不足",
        "count": 150,
        "min": 200,
    }


def test_a_rule_set_may_word_its_own_codes_and_falls_back_to_the_shared_ones():
    own = {"too_long": "内容超出长度上限", "name_taken": "已有同名的推荐单位"}
    assert problem("name", "name_taken", own)["message"] == "已有同名的推荐单位"
    assert problem("name", "too_long", own)["message"] == "内容超出长度上限"
    assert problem("name", "required", own)["message"] == "此项为必填项"
    with pytest.raises(KeyError):
        problem("name", "no_such_code")


def test_the_summary_says_what_went_wrong():
    one = [problem("deadline", "deadline_passed")]
    three = one + [problem("title", "required"), problem("abstract", "too_short")]
    assert summary(one) == "已过征集截止时间"
    assert summary(three) == "有 3 处需要修改：已过征集截止时间等"
    assert summary([]) == "提交的内容未通过校验"
    assert Invalid(three).message == summary(three)
    assert Invalid(one, "自定义").message == "自定义"


def test_refuse_if_raises_only_when_there_is_something_to_say():
    refuse_if([])
    with pytest.raises(Invalid) as caught:
        refuse_if([problem("title", "required")])
    assert caught.value.status == 422 and caught.value.code == "validation_failed"
    assert caught.value.problems[0]["field"] == "title"


def test_refusals_carry_their_status():
    assert Refused("route_locked", "不能修改").status == 409
    assert Refused("x", "y", status=422, fields=["a"]).fields == ["a"]
    missing = NotFound()
    assert (missing.status, missing.code, missing.message) == (404, "not_found", "请求的内容不存在")


@pytest.mark.parametrize(
    "value, whole, row",
    [(1, True, True), (0, True, False), (-3, True, False), (True, False, False),
     ("1", False, False), (1.0, False, False), (2**31, True, False), (2**31 - 1, True, True)],
)  # fmt: skip
def test_row_ids_are_positive_whole_numbers_that_fit(value, whole, row):
    assert is_whole_number(value) is whole
    assert is_row_id(value) is row
