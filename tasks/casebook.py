"""The job that builds the casebook's PDF and DOCX, reporting progress on its `Casebook` row.

Progress counts cases drawn: each case once for the PDF, once for the DOCX (total = 2 × cases).
The PDF is stored and dropped before the DOCX is drawn, so only one document is in memory.
"""

import datetime
import io
import tempfile
from pathlib import Path

from rq.job import Callback

from campaign.casebook import builds
from campaign.casebook.gather import PhotoCache, book_info, cases, text_only, winning_entries
from campaign.clock import to_local
from drawing.casebook import case_text, casebook_docx, casebook_pdf, toc_lines
from models import Casebook, db, utcnow
from storage import get_storage
from tasks.queue import get_queue

PROGRESS_EVERY = 5  # cases between progress writes


def enqueue_build(casebook_id: int) -> None:
    get_queue("default").enqueue(
        build_casebook,
        casebook_id,
        job_id=f"casebook-{casebook_id}",
        on_failure=Callback(mark_failed),
        job_timeout=3 * 3600,
    )


@db.connection_context()
def build_casebook(casebook_id: int) -> str:
    """Draw and store both documents; idempotent (a finished build is left alone)."""
    book = Casebook.get_or_none(Casebook.id == casebook_id)
    if book is None or book.status == builds.READY:
        return "done"
    campaign = book.campaign
    entries = winning_entries(campaign)
    outline = text_only(campaign, entries)
    count = len(entries)
    builds.update(casebook_id, status=builds.RUNNING, done=0, total=2 * count, error=None)
    cover = book_info(campaign, outline, _today(campaign))
    text = "".join(case_text(case) for case in outline)
    lines = toc_lines((c.award_label, c.domain_label, c.title) for c in outline)
    storage = get_storage()
    with tempfile.TemporaryDirectory() as folder:
        photos = PhotoCache(Path(folder))
        pdf = casebook_pdf(cover, cases(campaign, book.options, entries, photos), text, lines,
                           _reporter(casebook_id, 0, count))  # fmt: skip
        stored_pdf = storage.save(io.BytesIO(pdf), "pdf")
        del pdf
        docx = casebook_docx(cover, cases(campaign, book.options, entries, photos),
                             _reporter(casebook_id, count, count))  # fmt: skip
        stored_docx = storage.save(io.BytesIO(docx), "docx")
        del docx
    builds.finish(
        casebook_id, done=2 * count, pdf_key=stored_pdf.key, pdf_size=stored_pdf.size,
        docx_key=stored_docx.key, docx_size=stored_docx.size,
    )  # fmt: skip
    return "ready"


def _reporter(casebook_id: int, offset: int, count: int):
    def progress(done: int) -> None:
        if done % PROGRESS_EVERY == 0 or done == count:
            builds.update(casebook_id, done=offset + done)

    return progress


def _today(campaign) -> datetime.date:
    return to_local(utcnow(), campaign.timezone).date()


@db.connection_context()
def mark_failed(job, connection, exc_type, exc_value, traceback) -> None:
    """RQ's failure callback: the organizer sees that the build failed, and why."""
    builds.fail(job.args[0], f"汇编生成失败：{exc_type.__name__}: {exc_value}")
