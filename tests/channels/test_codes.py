"""Channel codes as they travel: scene strings in both QR kinds, plain links, fresh codes."""

import pytest

from campaign.channels.codes import (
    CODE_ALPHABET,
    CODE_LENGTH,
    code_from_link,
    code_from_scene,
    new_code,
    scene_for,
)


def test_new_codes_are_random_unambiguous_and_fit_a_scene():
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)
        assert len(scene_for(code)) <= 32  # WeChat's scene limit
        assert code_from_scene(scene_for(code)) == code
    assert not set("01lo") & set(CODE_ALPHABET)


@pytest.mark.parametrize(
    "scene, code",
    [
        ("c=abcd2345", "abcd2345"),
        ("qrscene_c=abcd2345", "abcd2345"),
        ("c%3Dabcd2345", "abcd2345"),
        (" c=abcd2345 ", "abcd2345"),
        ("c=abcd2345&from=poster", "abcd2345"),
        ("c=ABCD2345", None),
        ("c=abc", None),
        ("c=" + "a" * 17, None),
        ("c=", None),
        ("x=abcd2345", None),
        ("abcd2345", None),
        ("", None),
        (None, None),
        (12345, None),
    ],
)
def test_scenes(scene, code):
    assert code_from_scene(scene) == code


@pytest.mark.parametrize(
    "q, code",
    [
        ("https://campaign.example.cn/q/abcd2345", "abcd2345"),
        ("https%3A%2F%2Fcampaign.example.cn%2Fq%2Fabcd2345", "abcd2345"),
        ("https://campaign.example.cn/q/abcd2345/", "abcd2345"),
        ("https://campaign.example.cn/q/abcd2345?from=wx", "abcd2345"),
        ("https://campaign.example.cn/q/abcd2345/more", None),
        ("https://campaign.example.cn/x/abcd2345", None),
        ("https://campaign.example.cn/q/AB", None),
        ("", None),
        (None, None),
    ],
)
def test_links(q, code):
    assert code_from_link(q) == code
