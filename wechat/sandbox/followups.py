"""What WeChat does by itself after answering some API calls.

A template message is followed by a TEMPLATESENDJOBFINISH event once "delivered", and
media_check_async downloads the media and later pushes its verdict as a wxa_media_check event.
Both run on background threads so the API call is answered first, as WeChat answers it.
"""

import hashlib
import threading
import time

import requests

from . import events, moderation
from .push import push_event
from .state import SandboxState

MEDIA_FETCH_TIMEOUT = 3.0


def report_template_delivery(state: SandboxState, appid: str, openid: str, msgid: int) -> None:
    """Push TEMPLATESENDJOBFINISH after `template_finish_delay` seconds."""
    threading.Thread(
        target=_report_delivery, args=(state, appid, openid, msgid), daemon=True
    ).start()


def check_media(
    state: SandboxState, appid: str, openid: str, trace_id: str, media_url: str
) -> None:
    """Download the media, then push its verdict; a failed download pushes nothing."""
    job = {"trace_id": trace_id, "appid": appid, "media_url": media_url, "status": "downloading"}
    state.add_media_check(job)
    threading.Thread(target=_check_media, args=(state, openid, job), daemon=True).start()


def _report_delivery(state: SandboxState, appid: str, openid: str, msgid: int) -> None:
    time.sleep(state.config.template_finish_delay)
    push_event(state, appid, events.template_finished(state.app(appid), openid, msgid))


def _check_media(state: SandboxState, openid: str, job: dict) -> None:
    try:
        response = requests.get(job["media_url"], timeout=MEDIA_FETCH_TIMEOUT)
        response.raise_for_status()
    except requests.RequestException as exc:
        with state.changing():
            job.update(status="download_failed", error=str(exc))
        return
    digest = hashlib.sha256(response.content).hexdigest()
    verdict = moderation.judge_media(digest, state.risky_media())
    app = state.app(job["appid"])
    event = events.media_checked(app, openid, job["trace_id"], verdict.suggest, verdict.label)
    record = push_event(state, app.appid, event)
    with state.changing():
        job.update(status="pushed", sha256=digest, suggest=verdict.suggest, push_id=record.id)
