"""WeChat's keyword value rules, checked before any send (campaign.notices.template_values)."""

import pytest

from campaign.notices.template_values import check_value, keyword_type


@pytest.mark.parametrize(
    "key, declared, expected",
    [
        ("thing1", None, "thing"),
        ("character_string12", None, "character_string"),
        ("phone_number3", None, "phone_number"),
        ("keyword1", None, "text"),
        ("first", None, "text"),
        ("keyword2", "date", "date"),
        ("thing1", "nonsense", "thing"),
    ],
)
def test_a_keywords_type_comes_from_its_name(key, declared, expected):
    assert keyword_type(key, declared) == expected


GOOD = {
    "thing": ["案例征集即将截止，请尽快提交材料", "a" * 20, "2021"],
    "number": ["7", "-3.5", "1" * 32],
    "letter": ["ABC", "x" * 32],
    "symbol": ["!", "%$#@*"],
    "character_string": ["NO.2021-10_31", "x" * 32],
    "time": ["23:59", "2021年10月31日 23:59", "2021-10-31 09:00~2021-10-31 18:00", "09:00:30"],
    "date": ["2021年10月31日", "2021/10/31", "2021.10.31 23:59", "2021-10-01~2021-10-31"],
    "amount": ["100", "￥12.50", "$3", "100元"],
    "phone_number": ["0591-87808286", "+86 138 0013 8000"],
    "car_number": ["闽A12345", "ABC123"],
    "name": ["王芳", "Wang Fang"],
    "phrase": ["已提交", "待审核中啊"],
    "text": ["任意文字"],
}
BAD = {
    "thing": [("这" * 21, "too_long")],
    "number": [("12a", "invalid_format"), ("1" * 33, "too_long")],
    "letter": [("abc1", "invalid_format")],
    "symbol": [("!!!!!!", "too_long"), ("a!", "invalid_format")],
    "character_string": [("中文", "invalid_format"), ("has space", "invalid_format")],
    "time": [("2021年10月31日", "invalid_format"), ("25:00", "invalid_format")],
    "date": [("23:59", "invalid_format"), ("2021-13-01", "invalid_format")],
    "amount": [("一百元", "invalid_format"), ("1.234", "invalid_format")],
    "phone_number": [("call me", "invalid_format"), ("1" * 18, "too_long")],
    "car_number": [("闽A-12345", "invalid_format"), ("闽A1234567", "too_long")],
    "name": [("王芳2", "invalid_format"), ("王" * 11, "invalid_format")],
    "phrase": [("abc", "invalid_format"), ("已经提交完成", "too_long")],
    "text": [("字" * 201, "invalid_format")],
}


@pytest.mark.parametrize("kind, value", [(k, v) for k, values in GOOD.items() for v in values])
def test_values_wechat_accepts(kind, value):
    assert check_value("values.x", kind, value) is None


@pytest.mark.parametrize(
    "kind, value, code", [(k, v, c) for k, values in BAD.items() for v, c in values]
)
def test_values_wechat_refuses(kind, value, code):
    found = check_value("values.x", kind, value)
    assert found["code"] == code and found["field"] == "values.x" and found["message"]


@pytest.mark.parametrize("value", [None, "", "   ", ["x"]])
def test_a_missing_value_is_required(value):
    assert check_value("values.x", "thing", value)["code"] == "required"


def test_numbers_may_be_given_as_numbers():
    assert check_value("values.x", "number", 42) is None
