"""Thin calls for what wechatpy 1.8.18 lacks or gets wrong, on top of `client.post(...)`.

Going through the client keeps token injection, the bounded token retry and errcode →
`WeChatClientException` mapping in one place. Each function returns WeChat's answer (or
the useful part of it) and raises `WeChatClientException` with WeChat's errcode.
"""

from wechatpy.exceptions import WeChatClientException

from wechat.client import CampaignClient

API = "https://api.weixin.qq.com/"
IMAGE_TYPES = ("image/jpeg", "image/png")
SEC_CHECK_MAX_CHARS = 2500


def code_to_session(client: CampaignClient, js_code: str) -> dict:
    """`sns/jscode2session`: openid, session_key and maybe unionid for a `wx.login()` code."""
    return client.wxa.code_to_session(js_code)


def phone_number(client: CampaignClient, code: str) -> dict:
    """`wxa/business/getuserphonenumber`: the phone_info for a single-use code."""
    return client.post("wxa/business/getuserphonenumber", data={"code": code}, api_base_url=API)[
        "phone_info"
    ]


def msg_sec_check(client: CampaignClient, openid: str, content: str, scene: int = 2) -> dict:
    """`wxa/msg_sec_check` v2 on at most 2,500 characters: `{suggest, label, trace_id}`."""
    if len(content) > SEC_CHECK_MAX_CHARS:
        raise ValueError("msg_sec_check takes at most 2,500 characters; split the text first")
    body = {"content": content, "version": 2, "scene": scene, "openid": openid}
    answer = client.post("wxa/msg_sec_check", data=body, api_base_url=API)
    return {**answer["result"], "trace_id": answer.get("trace_id")}


def media_check_async(client: CampaignClient, openid: str, url: str, media_type: int = 2) -> str:
    """`wxa/media_check_async` v2; the verdict arrives later as a `wxa_media_check` event."""
    body = {"media_url": url, "media_type": media_type, "version": 2, "scene": 2, "openid": openid}
    return client.post("wxa/media_check_async", data=body, api_base_url=API)["trace_id"]


def wxa_code_unlimited(
    client: CampaignClient,
    scene: str,
    page: str,
    env_version: str = "release",
    check_path: bool = True,
    width: int = 430,
) -> bytes:
    """`wxa/getwxacodeunlimit`: image bytes; WeChat answers errors as JSON, never store those."""
    body = {
        "scene": scene,
        "page": page,
        "check_path": check_path,
        "env_version": env_version,
        "width": width,
    }
    response = client.post("wxa/getwxacodeunlimit", data=body, api_base_url=API)
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    if content_type not in IMAGE_TYPES:
        raise WeChatClientException(None, f"expected an image, got {content_type!r}", client=client)
    return response.content


def create_permanent_qr(client: CampaignClient, scene_str: str) -> dict:
    """`cgi-bin/qrcode/create` QR_LIMIT_STR_SCENE: `{ticket, url}`; create once, keep forever."""
    body = {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": scene_str}}}
    return client.qrcode.create(body)


def send_subscribe(
    client: CampaignClient,
    openid: str,
    template_id: str,
    data: dict,
    page: str = "",
    state: str = "formal",
) -> dict:
    """`cgi-bin/message/subscribe/send` (mini-program), with `miniprogram_state`."""
    body = {
        "touser": openid,
        "template_id": template_id,
        "data": {key: {"value": value} for key, value in data.items()},
        "miniprogram_state": state,
        "lang": "zh_CN",
    }
    if page:
        body["page"] = page
    return client.post("message/subscribe/send", data=body)


def send_template(
    client: CampaignClient, openid: str, template_id: str, data: dict, mini_program=None
) -> dict:
    """`cgi-bin/message/template/send` (official account, followers only)."""
    values = {key: {"value": value} for key, value in data.items()}
    return client.message.send_template(openid, template_id, values, mini_program=mini_program)


def user_info(client: CampaignClient, openid: str) -> dict:
    """`cgi-bin/user/info`: whether the user follows the account, and from which QR."""
    return client.user.get(openid)
