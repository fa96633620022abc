"""Export jobs (issue 10 §6): build an organizer's workbook, PDF or evidence ZIP into
storage, reporting progress on its `ExportJob` row. Idempotent: a finished export is left
as it is, and a re-run after a crash starts the file again from scratch."""

import logging
import tempfile

from rq.job import Callback

from campaign.audit import record
from campaign.entries import exports
from models import Entry, ExportJob, db, utcnow
from storage import get_storage
from tasks.queue import get_queue

log = logging.getLogger(__name__)

EXTENSIONS = {"entries": "xlsx", "units": "xlsx", "entry_pdf": "pdf", "evidence_zip": "zip"}


def request_export(campaign, kind: str, params: dict, pii: bool, actor: str) -> ExportJob:
    """Record the request (audited: exports carry personal data) and queue the job."""
    with db.atomic():
        job = ExportJob.create(
            campaign=campaign, kind=kind, params=params, pii=pii, requested_by=actor
        )
        record(actor, "export.request", job, None, {"kind": kind, "pii": pii, **params}, campaign)
    get_queue("default").enqueue(
        build_export,
        job.id,
        job_id=f"export-{job.id}",
        on_failure=Callback(mark_export_failed),
        job_timeout=3 * 3600,
    )
    return job


@db.connection_context()
def build_export(export_id: int) -> str:
    job = ExportJob.get_or_none(ExportJob.id == export_id)
    if job is None or job.status == "ready":
        return "done"
    _progress(export_id, status="running", done=0, error=None)

    def progress(done: int, total: int) -> None:
        _progress(export_id, done=done, total=total)

    storage = get_storage()
    params = job.params or {}
    filters, text = params.get("filters") or {}, params.get("q") or ""
    with tempfile.TemporaryFile() as scratch:
        if job.kind == "entries":
            scratch.write(exports.entries_workbook(job.campaign, filters, text, job.pii, progress))
        elif job.kind == "units":
            scratch.write(exports.units_workbook(job.campaign, filters, text, job.pii, progress))
        elif job.kind == "entry_pdf":
            from wechat.entry_form import entry_pdf

            entry = Entry.get_by_id(params["entry"])
            progress(0, 1)
            scratch.write(entry_pdf(exports.entry_form_data(entry, job.pii)))
            progress(1, 1)
        else:
            exports.evidence_zip(job.campaign, filters, text, storage, scratch, progress)
        scratch.seek(0)
        stored = storage.save(scratch, EXTENSIONS[job.kind])
    _progress(
        export_id, status="ready", storage_key=stored.key, size=stored.size, finished_at=utcnow()
    )
    return "ready"


def _progress(export_id: int, **values) -> None:
    ExportJob.update(**values).where(ExportJob.id == export_id).execute()


@db.connection_context()
def mark_export_failed(job, connection, exc_type, exc_value, traceback) -> None:
    log.error("export failed", extra={"fields": {"job": job.id, "error": str(exc_value)}})
    _progress(job.args[0], status="failed", error=f"导出失败：{exc_value}", finished_at=utcnow())
