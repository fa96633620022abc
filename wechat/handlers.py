"""What to answer a push, decided inline within WeChat's 5 seconds: no database, no WeChat call.

A literal table maps (MsgType, Event) to a function returning the passive reply text (or
None for "success") and the touch to record. Everything slower happens in the job that
`tasks.wechat_events` enqueues for every push.
"""

from dataclasses import dataclass
from urllib.parse import quote

from campaign.channels.codes import code_from_scene
from campaign.channels.touches import touch_record
from campaign.console_login import scene_of


@dataclass(frozen=True)
class Links:
    """Where replies point: the H5 registration (via OAuth) and the mini-program."""

    public_base_url: str
    wxa_appid: str
    wxa_page: str

    def register(self, code: str | None) -> str:
        suffix = f"?c={quote(code)}" if code else ""
        return f"{self.public_base_url}/wechat/oauth/start{suffix}"

    def mini_program(self, code: str | None) -> str:
        path = self.wxa_page + (f"?c={quote(code)}" if code else "")
        return (
            f'<a data-miniprogram-appid="{self.wxa_appid}" data-miniprogram-path="{path}" '
            f'href="{self.register(code)}">进入小程序报名</a>'
        )


def welcome(links: Links, code: str | None) -> str:
    return (
        "您好，欢迎参加党建品牌、优秀案例征集活动！\n"
        f"{links.mini_program(code)}\n"
        f'或<a href="{links.register(code)}">在网页中登记报名</a>。\n'
        "回复“报名”获取报名入口，回复“进度”查看提交进度，回复“帮助”查看活动说明。"
    )


def on_follow(message: dict, links: Links):
    """subscribe (maybe from a parametric QR: `qrscene_c=<code>`) and SCAN (`c=<code>`)."""
    event = str(message.get("Event", "")).lower()
    if scene_of(message.get("EventKey")):
        return "已扫码，正在登录推荐单位工作台，请回到电脑上继续。", None
    code = code_from_scene(message.get("EventKey"))
    kind = "mp_subscribe" if event == "subscribe" else "mp_scan"
    touch = touch_record(kind, code=code, app="mp", openid=message.get("FromUserName"))
    return welcome(links, code), touch


KEYWORD_REPLIES = {
    "报名": lambda links: (
        f'报名入口：\n{links.mini_program(None)}\n<a href="{links.register(None)}">网页报名</a>'
    ),
    # No H5 progress page yet (the H5 issue builds it): the mini-program shows the progress.
    "进度": lambda links: f"请在小程序“我的案例”中查看提交进度：\n{links.mini_program(None)}",
    "帮助": lambda links: (
        "本活动征集新时代党建品牌和优秀案例。"
        f'<a href="{links.public_base_url}/h5/">查看活动说明、征集要求和联系方式</a>。\n'
        "回复“报名”获取报名入口，回复“进度”查看提交进度。"
    ),
}


def on_text(message: dict, links: Links):
    """Keywords get their answer; anything else gets the help text."""
    content = str(message.get("Content", "")).strip()
    reply = KEYWORD_REPLIES.get(content, KEYWORD_REPLIES["帮助"])
    return reply(links), None


def on_background(message: dict, links: Links):
    """Events whose only effect is in the job (grants, checks, delivery reports)."""
    return None, None


HANDLERS = {
    ("event", "subscribe"): on_follow,
    ("event", "scan"): on_follow,
    ("event", "unsubscribe"): on_background,
    ("event", "subscribe_msg_popup_event"): on_background,
    ("event", "subscribe_msg_change_event"): on_background,
    ("event", "subscribe_msg_sent_event"): on_background,
    ("event", "wxa_media_check"): on_background,
    ("event", "templatesendjobfinish"): on_background,
    ("text", ""): on_text,
}


def respond(message: dict, links: Links):
    """(reply text or None, touch record or None) for a push; unknown kinds get neither."""
    msg_type = str(message.get("MsgType", "")).lower()
    event = str(message.get("Event", "")).lower() if msg_type == "event" else ""
    handler = HANDLERS.get((msg_type, event))
    return handler(message, links) if handler else (None, None)
