"""Content checks after submit: entry text through WeChat's msgSecCheck v2.

`risky` holds the entry back from departments and experts until an organizer decides;
`review` flags it. WeChat failures are retried with backoff and, when retries run out,
the entry is marked `error` for an organizer: never silently passed. A check is tied to
the entry's version, so an edit after submit starts a new check and a stale one is dropped.
"""

from rq import Retry
from rq.job import Callback

from campaign.contentcheck import entry_pieces, worst
from campaign.users import same_person
from models import Entry, WechatUser, db
from tasks.queue import get_queue
from wechat import calls
from wechat.client import wxa_client


def enqueue_content_check(entry_id: int) -> None:
    """Check the entry's current version (after submit, or an edit after submit)."""
    version = Entry.get_by_id(entry_id).version
    Entry.update(content_check="pending").where(Entry.id == entry_id).execute()
    get_queue("default").enqueue(
        check_entry_text,
        entry_id,
        version,
        job_id=f"check-text-{entry_id}-v{version}",
        retry=Retry(max=5, interval=[10, 30, 60, 300, 900]),
        on_failure=Callback(mark_check_failed),
        job_timeout=300,
    )


@db.connection_context()
def check_entry_text(entry_id: int, version: int) -> str:
    """Check every piece; store the worst verdict unless the entry changed meanwhile."""
    entry = Entry.get_or_none(Entry.id == entry_id)
    if entry is None or entry.version != version:
        return "stale"
    openid = _wxa_openid(entry.owner)
    if openid is None:
        verdict = "manual"  # no mini-program identity to check with: an organizer reads it
    else:
        client = wxa_client()
        verdict = worst(
            [calls.msg_sec_check(client, openid, p)["suggest"] for p in entry_pieces(entry)]
        )
    Entry.update(content_check=verdict).where(
        (Entry.id == entry_id) & (Entry.version == version)
    ).execute()
    return verdict


def _wxa_openid(owner: WechatUser) -> str | None:
    """msgSecCheck needs a mini-program openid: the owner's, or their mini-program twin's."""
    row = (
        WechatUser.select(WechatUser.openid)
        .where(WechatUser.id.in_(same_person(owner)) & (WechatUser.app == "wxa"))
        .first()
    )
    return row.openid if row else None


@db.connection_context()
def mark_check_failed(job, connection, exc_type, exc_value, traceback) -> None:
    """RQ's failure callback: retries are exhausted, so say so instead of passing."""
    if job.retries_left:
        return
    entry_id, version = job.args
    Entry.update(content_check="error").where(
        (Entry.id == entry_id) & (Entry.version == version)
    ).execute()
