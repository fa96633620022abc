"""Casebook builds: a row per request, so progress and the finished files survive a reload
(and a worker restart: the job re-runs from its row, RQ delivering at least once)."""

from campaign.audit import record
from campaign.casebook.gather import check_options
from models import Campaign, Casebook, utcnow

PENDING, RUNNING, READY, FAILED = "pending", "running", "ready", "failed"


class CasebookInvalid(Exception):
    def __init__(self, problems: list[dict]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def request_build(campaign: Campaign, data, actor: str) -> Casebook:
    """A new build with checked options (`photos_per_case`, chosen `photos`); not started."""
    options, problems = check_options(data)
    if problems:
        raise CasebookInvalid(problems)
    book = Casebook.create(campaign=campaign, options=options, requested_by=actor)
    record(actor, "casebook.request", book, after=options, campaign=campaign)
    return book


def update(casebook_id: int, **values) -> None:
    Casebook.update(**values).where(Casebook.id == casebook_id).execute()


def finish(casebook_id: int, **values) -> None:
    update(casebook_id, status=READY, finished_at=utcnow(), **values)


def fail(casebook_id: int, message: str) -> None:
    update(casebook_id, status=FAILED, error=message[:2000], finished_at=utcnow())


def payload(book: Casebook) -> dict:
    ready = book.status == READY
    return {
        "id": book.id,
        "status": book.status,
        "done": book.done,
        "total": book.total,
        "options": book.options,
        "error": book.error,
        "pdf_size": book.pdf_size if ready else None,
        "docx_size": book.docx_size if ready else None,
        "created_at": book.created_at.isoformat() + "Z",
        "finished_at": book.finished_at.isoformat() + "Z" if book.finished_at else None,
    }
