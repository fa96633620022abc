"""Organizer pages after scoring: the board (per track and domain, each entry's criterion
means, mean, median, spread, corrected score and rank, missing reviews, experts' leniency;
printable), 复核 (the chair's 政治性 queue and the committee re-review of the borderline
band) and decisions (staged per entry against the quota targets, then applied at once).
The rules are `campaign.review.board`, `holds` and `decisions`, as for `api/org/board.py`
and `api/org/decisions.py`."""

from flask import Blueprint, request

from api.files import document
from campaign.definition import options
from campaign.review import board, decisions, exports, holds
from campaign.review.refusals import Invalid
from campaign.review.rubric import rubric
from models import Entry, ReviewHold
from pages.console.layout import actor, campaign_or_404, paginate, render
from pages.console.review import entry_of, hx_redirect, paginate_list, review_page
from tasks import review as jobs

bp = Blueprint("review_board", __name__, url_prefix="/review")
BOARD_PAGE = 50
PRINT_LIMIT = 5000
GATE_LABELS = {"pass": "通过", "doubt": "存疑", "chair": "待主审裁定"}
HOLD_LABELS = {
    "open": "待裁定",
    "pass": "主审通过",
    "fail": "主审不通过",
    "confirm": "复核维持",
    "raise": "复核上调",
    "lower": "复核下调",
}
RECHECK_OUTCOMES = {"confirm": "维持", "raise": "上调", "lower": "下调"}
CHAIR_RULINGS = {"pass": "通过", "fail": "不通过"}


def _rows(data: dict) -> list:
    """The board's groups as one list, each row carrying its group's labels."""
    return [
        row | {"track_label": g["track_label"], "domain_label": g["domain_label"]}
        for g in data["groups"]
        for row in g["entries"]
    ]


def _filters() -> tuple:
    return request.args.get("track") or None, request.args.get("domain") or None


@bp.get("/board")
@review_page
def board_page():
    """`?print=1` puts every row on one page for the printer (up to PRINT_LIMIT)."""
    campaign = campaign_or_404()
    track, domain = _filters()
    data = board.board(campaign, track, domain)
    printing = request.args.get("print") == "1"
    rows = _rows(data)
    return render(
        "console/review_board.html",
        data=data,
        pager=paginate_list(rows, PRINT_LIMIT if printing else BOARD_PAGE),
        printing=printing,
        experts=paginate_list(data["experts"], PRINT_LIMIT),
        criteria=rubric(campaign)["criteria"],
        tracks=options(campaign, "track"),
        domains=options(campaign, "domain"),
        track=track,
        domain=domain,
        gate_labels=GATE_LABELS,
        hold_labels=HOLD_LABELS,
        decision_labels=decisions.LABELS,
    )


@bp.get("/scores.xlsx")
@review_page
def score_sheet():
    """Every submitted review as a spreadsheet (the API's export)."""
    return document(exports.score_sheet(campaign_or_404()), "专家评分表.xlsx", "scores.xlsx")


@bp.get("/holds")
@review_page
def holds_page():
    return render("console/review_holds.html", **_holds_context())


def _holds_context(**extra) -> dict:
    campaign = campaign_or_404()
    data = board.board(campaign)
    rechecks = (
        ReviewHold.select(ReviewHold, Entry)
        .join(Entry)
        .where((Entry.campaign == campaign) & (ReviewHold.kind == "recheck"))
        .order_by(ReviewHold.state, ReviewHold.id)  # "open" sorts before "resolved"
    )
    rows = {r["entry"]: r for r in _rows(data)}
    return {
        "chair": paginate_list(data["chair_queue"]),
        "rechecks": paginate(rechecks),
        "rows": rows,
        "quotas": campaign.quotas or {},
        "tracks": options(campaign, "track"),
        "hold_labels": HOLD_LABELS,
        "recheck_outcomes": RECHECK_OUTCOMES,
        "chair_rulings": CHAIR_RULINGS,
        "sent": request.args.get("sent", type=int),
        **extra,
    }


@bp.post("/holds/recheck")
@review_page
def send_to_recheck():
    """The borderline band of a track, or the entry numbers typed in."""
    campaign = campaign_or_404()
    typed = request.form.get("entries", "").replace("，", ",").replace("、", ",")
    if typed.strip():
        parts = [p.strip() for p in typed.split(",") if p.strip()]
        if not all(p.isdigit() for p in parts):
            raise Invalid(
                [{"field": "entries", "code": "invalid_type", "message": "作品编号格式不正确"}]
            )
        ids = [int(p) for p in parts]
    elif request.form.get("track") in ("brand", "case"):
        ids = board.borderline(campaign, request.form["track"])
    else:
        raise Invalid(
            [{"field": "track", "code": "required", "message": "请选择类别或填写作品编号"}]
        )
    sent = holds.open_recheck(campaign, ids, actor())
    return hx_redirect("console.review_board.holds_page", sent=len(sent))


@bp.post("/entries/<int:entry_id>/<any(chair, recheck):kind>")
@review_page
def rule(entry_id: int, kind: str):
    holds.rule(
        entry_of(entry_id),
        kind,
        request.form.get("outcome"),
        request.form.get("note", ""),
        actor(),
    )
    return hx_redirect("console.review_board.holds_page")


@bp.get("/decisions")
@review_page
def decisions_page():
    return render("console/review_decisions.html", **_decisions_context())


def _decisions_context(**extra) -> dict:
    campaign = campaign_or_404()
    track, domain = _filters()
    data = board.board(campaign, track, domain)
    return {
        "pager": paginate_list(_rows(data), BOARD_PAGE),
        "quotas": data["quotas"],
        "pending": len(decisions.pending(campaign)),
        "outcomes": decisions.LABELS,
        "tracks": options(campaign, "track"),
        "domains": options(campaign, "domain"),
        "track": track,
        "domain": domain,
        "basis": data["basis"],
        "hold_labels": HOLD_LABELS,
        "applied": request.args.get("applied", type=int),
        **extra,
    }


@bp.post("/entries/<int:entry_id>/decision")
@review_page
def stage(entry_id: int):
    entry = entry_of(entry_id)
    if request.form.get("outcome") == "unstage":
        decisions.unstage(entry, actor())
    else:
        decisions.stage(entry, request.form.get("outcome"), request.form.get("reason", ""), actor())
    kept = {k: v for k in ("track", "domain", "page") if (v := request.args.get(k))}
    return hx_redirect("console.review_board.decisions_page", **kept)


@bp.post("/decisions/apply")
@review_page
def apply():
    result = decisions.apply(campaign_or_404(), actor())
    jobs.start_notices(result["notices"])
    return hx_redirect("console.review_board.decisions_page", applied=result["applied"])
