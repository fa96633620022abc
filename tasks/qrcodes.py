"""Jobs that make channels' codes and departments' kits; never done inside a request.

`make_codes` takes a batch of channel ids (fan-out jobs carry batches: DESIGN §7) and, for
each, draws the plain-link QR and poster files, fetches the mini-program code and creates the
official-account permanent QR (once per channel, ever: the ticket is kept and reused). It is
idempotent: finished codes are skipped unless `force`. WeChat's transient errors (-1, 45011,
timeouts) move that one code to its own job, retried with backoff by RQ; other errors are
final and recorded on the `ChannelAsset` row for the organizer to read.
"""

import datetime
import logging
import tempfile
import zipfile

from requests import RequestException
from rq import Retry
from rq.job import Callback, Job, JobStatus
from wechatpy.exceptions import WeChatClientException

from campaign.channels import assets as codes
from campaign.channels import kits
from campaign.channels.codes import scene_for
from config import current_settings
from drawing import qrdraw
from drawing.cjkfont import FontMissing
from models import Channel, Department, KitArchive, db, utcnow
from storage import get_storage
from tasks.queue import get_queue, redis_connection
from wechat import calls
from wechat.client import mp_client, wxa_client

log = logging.getLogger(__name__)

BATCH = 50
TRANSIENT = {-1, 45011}
RETRY_AFTER = datetime.timedelta(seconds=15)  # then RQ retries with backoff
WECHAT_RETRY = Retry(max=4, interval=[60, 300, 900, 3600])
KIT_PROGRESS_EVERY = 10
ERRORS = {
    40169: "小程序码场景值不合法",
    41030: "小程序页面不存在或未发布（检查 WECHAT_WXA_PAGE 与 WECHAT_WXA_ENV_VERSION）",
    45009: "今日微信接口调用次数已达上限，请明天重新生成",
    45029: "公众号永久二维码数量已达微信上限",
    48001: "公众号或小程序没有该接口权限",
}
ACTIVE_JOB = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


class Transient(Exception):
    """WeChat may answer next time: busy, rate-limited, or unreachable."""


class Final(Exception):
    """WeChat (or our budget) refused for good; the message is for the organizer."""


def enqueue_codes(channel_ids: list[int], force: bool = False) -> None:
    """Make (or with `force` remake) every code of these channels, in batches."""
    for start in range(0, len(channel_ids), BATCH):
        batch = channel_ids[start : start + BATCH]
        get_queue("default").enqueue(make_codes, batch, force, job_timeout=1800)


@db.connection_context()
def make_codes(channel_ids: list[int], force: bool = False) -> int:
    """Every code of every channel in the batch; return how many channels were handled."""
    channels = list(Channel.select().where(Channel.id.in_(channel_ids)).order_by(Channel.id))
    existing = codes.assets_of([c.id for c in channels])
    for channel in channels:
        draw_local_codes(channel, existing[channel.id], force)
        for kind in ("wxa", "mp"):
            try:
                FETCHERS[kind](channel, existing[channel.id].get(kind), force)
            except Transient as busy:
                codes.mark_asset(
                    channel.id, kind, codes.PENDING, f"微信暂时不可用，稍后自动重试：{busy}"
                )
                _enqueue_retry(channel.id, kind, force)
            except Final as refused:
                codes.mark_asset(channel.id, kind, codes.FAILED, str(refused))
    return len(channels)


def draw_local_codes(channel: Channel, assets: dict, force: bool = False) -> None:
    """The plain-link QR (PNG, SVG, PDF) and the poster (PNG, PDF), unless already stored."""
    storage = get_storage()
    missing = [k for k in codes.LOCAL_KINDS if force or not codes.is_ready(assets.get(k), storage)]
    if not missing:
        return
    base_url = current_settings().public_base_url
    fields = codes.poster_fields(channel, base_url)
    draw = {
        "link_png": lambda: qrdraw.link_png(fields["url"]),
        "link_svg": lambda: qrdraw.link_svg(fields["url"]),
        "link_pdf": lambda: qrdraw.link_pdf(fields["url"]),
        "poster_png": lambda: qrdraw.poster_png(qrdraw.PosterText(**fields)),
        "poster_pdf": lambda: qrdraw.poster_pdf(qrdraw.PosterText(**fields)),
    }
    for kind in missing:
        try:
            content = draw[kind]()
        except FontMissing as missing_font:
            codes.mark_asset(channel.id, kind, codes.FAILED, str(missing_font))
            continue
        assets[kind] = codes.store_asset(
            channel.id, kind, content, codes.KINDS[kind].extension, storage
        )


def fetch_wxa_code(channel: Channel, asset, force: bool = False) -> None:
    """The mini-program code (scene `c=<code>`), from `wxa/getwxacodeunlimit`."""
    storage = get_storage()
    if not force and codes.is_ready(asset, storage):
        return
    settings = current_settings()
    image = _call_wechat(
        calls.wxa_code_unlimited,
        wxa_client(),
        scene_for(channel.code),
        settings.wxa_page,
        env_version=settings.wxa_env_version,
        check_path=settings.wxa_env_version == "release",
    )
    extension = "png" if image.startswith(b"\x89PNG") else "jpg"
    codes.store_asset(channel.id, "wxa", image, extension, storage)


def ensure_mp_qr(channel: Channel, asset, force: bool = False) -> None:
    """The official account's permanent QR: the ticket is created once, the image drawn from
    its `url` (and redrawn on `force`, never re-created)."""
    storage = get_storage()
    if asset is not None and asset.ticket:
        if force or not codes.is_ready(asset, storage):
            codes.store_asset(channel.id, "mp", qrdraw.url_qr_png(asset.url), "png", storage)
        return
    if codes.mp_qr_usage()["remaining"] <= 0:
        raise Final("公众号永久二维码额度已用完（WECHAT_MP_QR_BUDGET）")
    answer = _call_wechat(calls.create_permanent_qr, mp_client(), scene_for(channel.code))
    image = qrdraw.url_qr_png(answer["url"])
    codes.store_asset(
        channel.id, "mp", image, "png", storage, ticket=answer["ticket"], url=answer["url"]
    )


FETCHERS = {"wxa": fetch_wxa_code, "mp": ensure_mp_qr}


def _call_wechat(function, *args, **kwargs):
    """Call WeChat, sorting its failures into Transient and Final."""
    try:
        return function(*args, **kwargs)
    except WeChatClientException as error:
        if error.errcode in TRANSIENT:
            raise Transient(f"{error.errcode} {error.errmsg}") from error
        message = ERRORS.get(error.errcode, f"微信接口错误 {error.errcode}：{error.errmsg}")
        raise Final(message) from error
    except RequestException as error:
        raise Transient(type(error).__name__) from error


def _enqueue_retry(channel_id: int, kind: str, force: bool) -> None:
    job_id = f"qr-{kind}-{channel_id}"
    existing = Job.fetch_many([job_id], connection=redis_connection())[0]
    if existing is not None and existing.get_status(refresh=False) in ACTIVE_JOB:
        return
    get_queue("default").enqueue_in(
        RETRY_AFTER,
        retry_wechat_code,
        channel_id,
        kind,
        force,
        job_id=job_id,
        retry=WECHAT_RETRY,
        on_failure=Callback(mark_retries_exhausted),
        job_timeout=120,
    )


@db.connection_context()
def retry_wechat_code(channel_id: int, kind: str, force: bool = False) -> str:
    """One WeChat code of one channel; a transient failure raises, so RQ retries it."""
    channel = Channel.get_or_none(Channel.id == channel_id)
    if channel is None:
        return "gone"
    try:
        FETCHERS[kind](channel, codes.assets_of([channel_id])[channel_id].get(kind), force)
    except Final as refused:
        codes.mark_asset(channel_id, kind, codes.FAILED, str(refused))
        return "failed"
    return "ready"


@db.connection_context()
def mark_retries_exhausted(job, connection, exc_type, exc_value, traceback) -> None:
    """RQ's failure callback: after the last retry, say the code failed (and why)."""
    if job.retries_left:
        return
    channel_id, kind = job.args[:2]
    codes.mark_asset(channel_id, kind, codes.FAILED, f"微信多次重试仍失败：{exc_value}")


# --- Kits --------------------------------------------------------------------------------


def request_kit(campaign_id: int, department_id: int | None, actor: str) -> KitArchive:
    """A ZIP of one department's codes (or, with None, every department's), built by a job."""
    archive = KitArchive.create(campaign=campaign_id, department=department_id, requested_by=actor)
    get_queue("default").enqueue(
        build_kit,
        archive.id,
        job_id=f"kit-{archive.id}",
        on_failure=Callback(mark_kit_failed),
        job_timeout=3 * 3600,
    )
    return archive


@db.connection_context()
def build_kit(archive_id: int) -> str:
    """Draw what is missing, then zip every department's codes, reporting progress."""
    archive = KitArchive.get_or_none(KitArchive.id == archive_id)
    if archive is None or archive.status == "ready":
        return "done"
    departments = _kit_departments(archive)
    _progress(archive_id, status="running", done=0, total=len(departments))
    storage = get_storage()
    base_url = current_settings().public_base_url
    with tempfile.TemporaryFile() as scratch:
        with zipfile.ZipFile(scratch, "w", zipfile.ZIP_DEFLATED) as archive_zip:
            manifest = []
            for done, department in enumerate(departments, start=1):
                manifest += _add_department(archive_zip, department, archive, storage, base_url)
                if done % KIT_PROGRESS_EVERY == 0 or done == len(departments):
                    _progress(archive_id, done=done)
            kits.write_manifest(archive_zip, manifest)
        scratch.seek(0)
        stored = storage.save(scratch, "zip")
    _progress(
        archive_id, status="ready", storage_key=stored.key, size=stored.size, finished_at=utcnow()
    )
    return "ready"


def _kit_departments(archive: KitArchive) -> list[Department]:
    if archive.department_id:
        return [archive.department]
    return list(
        Department.select()
        .where((Department.campaign == archive.campaign_id) & Department.active)
        .order_by(Department.route, Department.name)
    )


def _add_department(archive_zip, department, archive, storage, base_url) -> list[dict]:
    channels = list(
        Channel.select()
        .where((Channel.department == department) & Channel.active)
        .order_by(Channel.id)
    )
    assets = codes.assets_of([c.id for c in channels])
    for channel in channels:
        draw_local_codes(channel, assets[channel.id])
    invite = codes.invite_url(base_url, department.invite_code)
    folder = "" if archive.department_id else kits.department_folder(department)
    kits.add_department(
        archive_zip, folder, department, channels, assets, storage, base_url,
        invite_png=qrdraw.link_png(invite),
    )  # fmt: skip
    return kits.manifest_rows(department, channels, assets, storage, base_url)


def _progress(archive_id: int, **values) -> None:
    KitArchive.update(**values).where(KitArchive.id == archive_id).execute()


@db.connection_context()
def mark_kit_failed(job, connection, exc_type, exc_value, traceback) -> None:
    log.error("kit failed", extra={"fields": {"job": job.id, "error": str(exc_value)}})
    _progress(job.args[0], status="failed", error=f"生成失败：{exc_value}", finished_at=utcnow())


@db.connection_context()
def purge_old_kits(days: int = 7) -> int:
    """Delete kit ZIPs older than `days` (they are rebuilt on request in minutes)."""
    storage = get_storage()
    cutoff = utcnow() - datetime.timedelta(days=days)
    old = list(KitArchive.select().where(KitArchive.created_at < cutoff))
    for archive in old:
        if archive.storage_key:
            storage.delete(archive.storage_key)
    KitArchive.delete().where(KitArchive.id.in_([a.id for a in old])).execute()
    return len(old)
