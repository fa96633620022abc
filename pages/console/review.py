"""What the organizer's review pages share (DESIGN §11): the door (organizers and admins),
the review rules' two refusals turned into the console's `ApiError` (so an htmx request gets
the JSON error with its Chinese message and a page load the error page), lookups scoped to
the current campaign, and paging of lists the rules hand back whole.

The pages themselves: `review_people` (experts, conflicts), `review_runs` (pre-flight,
assignment runs), `review_board` (the board, 复核, decisions).
"""

from functools import wraps

from flask import redirect, request, url_for

from api.errors import ApiError
from campaign.review.refusals import Invalid, Refused
from models import Entry
from pages.console.layout import PAGE_SIZE, campaign_or_404, page_for

INVALID_MESSAGE = "提交的内容未通过校验"
KIND_LABELS = {"declared": "申报回避", "recusal": "专家申请回避"}
RUN_LABELS = {"draft": "草稿", "published": "已发布", "discarded": "已放弃"}
JOB_LABELS = {
    "queued": "排队中",
    "scheduled": "排队中",
    "deferred": "排队中",
    "started": "计算中",
    "finished": "已完成",
    "failed": "失败",
    "stopped": "已停止",
    "canceled": "已取消",
}


def review_page(view):
    """Organizers and admins only; `Invalid` → 422 and `Refused` → 409 with the rule's
    Chinese message, exactly as the API answers them."""

    @page_for("organizer")
    @wraps(view)
    def wrapped(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except Invalid as invalid:
            raise ApiError(422, "validation_failed", INVALID_MESSAGE, invalid.problems) from None
        except Refused as refused:
            raise ApiError(409, refused.code, refused.message, refused.fields) from None

    return wrapped


def not_found() -> ApiError:
    return ApiError(404, "not_found", "请求的内容不存在")


def entry_of(entry_id: int) -> Entry:
    entry = Entry.get_or_none((Entry.id == entry_id) & (Entry.campaign == campaign_or_404()))
    if entry is None:
        raise not_found()
    return entry


def paginate_list(rows: list, size: int = PAGE_SIZE) -> dict:
    """`?page=` of a list (what `layout.paginate` does for a query)."""
    total = len(rows)
    pages = max((total + size - 1) // size, 1)
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    return {
        "rows": rows[(page - 1) * size : page * size],
        "total": total,
        "page": page,
        "pages": pages,
    }


def form_id(name: str):
    """A form field meant as a row id: the int, None when empty, else the text (so the rule
    reports it as not found rather than the page guessing)."""
    value = request.form.get(name, "").strip()
    if not value:
        return None
    return int(value) if value.isdigit() else value


def hx_redirect(endpoint: str, **values):
    """Send htmx (or a plain form) to another page after a change."""
    location = url_for(endpoint, **values)
    if request.headers.get("HX-Request"):
        return "", 204, {"HX-Redirect": location}
    return redirect(location, 303)
