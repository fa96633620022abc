"""WeChat's push payloads: the events and messages the sandbox sends to a callback, and
their XML and JSON renderings.

Builders return plain dicts keyed by WeChat's own field names in WeChat's order, so a test can
compare them with what the service received. XML is rendered as WeChat renders it (strings in
CDATA, numbers bare, a list as repeated elements). The JSON rendering, used for mini-programs
configured for JSON pushes, lifts `List` out of the subscribe-message wrappers, as WeChat's
JSON examples show.
"""

import json
import time

from .records import App, QrTicket

JSON_LIFTED = ("SubscribeMsgPopupEvent", "SubscribeMsgChangeEvent")


def message(app: App, openid: str, msg_type: str, **fields: object) -> dict:
    """The common header (ToUserName, FromUserName, CreateTime, MsgType) plus `fields`."""
    return {
        "ToUserName": app.original_id,
        "FromUserName": openid,
        "CreateTime": int(time.time()),
        "MsgType": msg_type,
        **fields,
    }


def event(app: App, openid: str, name: str, **fields: object) -> dict:
    """An event message: MsgType `event`, `Event` = name, then `fields`."""
    return message(app, openid, "event", Event=name, **fields)


def qr_scan(app: App, openid: str, qr: QrTicket, first_follow: bool) -> dict:
    """`subscribe` with `qrscene_<scene>` for a new follower, else `SCAN` with the bare scene."""
    if first_follow:
        return event(app, openid, "subscribe", EventKey=f"qrscene_{qr.scene}", Ticket=qr.ticket)
    return event(app, openid, "SCAN", EventKey=qr.scene, Ticket=qr.ticket)


def follow(app: App, openid: str) -> dict:
    """A plain follow: `subscribe` with an empty EventKey."""
    return event(app, openid, "subscribe", EventKey="")


def unfollow(app: App, openid: str) -> dict:
    """`unsubscribe`."""
    return event(app, openid, "unsubscribe", EventKey="")


def subscribe_popup(app: App, openid: str, results: dict[str, str], scene: int) -> dict:
    """`subscribe_msg_popup_event`: one List item per template in the popup."""
    items = [
        {"TemplateId": template_id, "SubscribeStatusString": answer, "PopupScene": scene}
        for template_id, answer in results.items()
    ]
    return event(app, openid, "subscribe_msg_popup_event", SubscribeMsgPopupEvent={"List": items})


def subscribe_change(app: App, openid: str, template_id: str, status: str) -> dict:
    """`subscribe_msg_change_event`: the user changed a template in their settings."""
    item = {"TemplateId": template_id, "SubscribeStatusString": status}
    return event(
        app, openid, "subscribe_msg_change_event", SubscribeMsgChangeEvent={"List": [item]}
    )


def text(app: App, openid: str, content: str, msgid: int) -> dict:
    """A text message from the user."""
    return message(app, openid, "text", Content=content, MsgId=msgid)


def template_finished(app: App, openid: str, msgid: int) -> dict:
    """`TEMPLATESENDJOBFINISH`: a template message was delivered."""
    return event(app, openid, "TEMPLATESENDJOBFINISH", MsgID=msgid, Status="success")


def media_checked(app: App, openid: str, trace_id: str, suggest: str, label: int) -> dict:
    """`wxa_media_check` (version 2): the verdict of a media_check_async job."""
    verdict = {"suggest": suggest, "label": label}
    return event(
        app,
        openid,
        "wxa_media_check",
        appid=app.appid,
        trace_id=trace_id,
        version=2,
        detail=[{"strategy": "content_model", "errcode": 0, **verdict, "prob": 90}],
        errcode=0,
        errmsg="ok",
        result=verdict,
    )


def render(payload: dict, push_format: str) -> str:
    """The payload as the app receives it in plain mode (and inside the envelope in safe mode)."""
    return to_json(payload) if push_format == "json" else to_xml(payload)


def encrypted_body(original_id: str, encrypted: str, push_format: str) -> str:
    """The safe-mode body: the Encrypt value addressed to the app."""
    if push_format == "json":
        return json.dumps({"ToUserName": original_id, "Encrypt": encrypted})
    return to_xml({"ToUserName": original_id, "Encrypt": encrypted})


def to_xml(payload: dict) -> str:
    """`<xml>…</xml>` with WeChat's conventions."""
    return f"<xml>{_elements(payload)}</xml>"


def to_json(payload: dict) -> str:
    """The JSON push rendering."""
    lifted = {}
    for name, value in payload.items():
        if name in JSON_LIFTED:
            lifted.update(value)
        else:
            lifted[name] = value
    return json.dumps(lifted, ensure_ascii=False)


def _elements(fields: dict) -> str:
    return "".join(_element(name, value) for name, value in fields.items())


def _element(name: str, value: object) -> str:
    if isinstance(value, list):
        return "".join(_element(name, item) for item in value)
    if isinstance(value, dict):
        return f"<{name}>{_elements(value)}</{name}>"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"<{name}>{value}</{name}>"
    cdata = str(value).replace("]]>", "]]]]><![CDATA[>")
    return f"<{name}><![CDATA[{cdata}]]></{name}>"
