"""Organizer pages over the public lists (初选名单, 入选名单): the draft from decisions,
publishing, versions, the 公示 window, finalizing and the 递补 that republishes a list.

The rules are `campaign.publication.lists`, as for the API; `changes_publications` (the API's)
turns their refusals into the same Chinese answers and drops the public page's cache."""

from flask import Blueprint, redirect, request, url_for

from api.errors import ApiError
from api.org.publications import changes_publications
from campaign.mailin.rules import AWARDS
from campaign.publication import lists
from campaign.publication.window import DEFAULT_WORKING_DAYS, window_state
from models import Publication, PublicationItem
from pages.console.layout import (
    actor,
    campaign_or_404,
    page_for,
    paginate,
    paginate_rows,
    render,
)

bp = Blueprint("publication", __name__)

STATE_LABELS = {lists.OPEN: "公示中", lists.FINALIZED: "已定稿", lists.SUPERSEDED: "已被新版本替代"}
WINDOW_LABELS = {"upcoming": "未开始", "open": "公示期内", "closed": "公示期已结束"}
SETTING_FIELDS = ("title", "intro", "withheld_label", "starts_on", "ends_on")


@bp.get("/publications")
@page_for("organizer")
def index():
    """Both kinds of list: the newest version of each and every version before it."""
    campaign = campaign_or_404()
    query = (
        Publication.select()
        .where(Publication.campaign == campaign)
        .order_by(Publication.kind.desc(), Publication.version.desc())
    )
    return render(
        "console/publication_index.html",
        pager=paginate(query),
        latest={kind: lists.latest(campaign, kind) for kind in lists.KINDS},
        kinds=lists.KINDS,
        states=STATE_LABELS,
    )


@bp.get("/publications/draft/<any(shortlist, final):kind>")
@page_for("organizer")
def draft(kind: str):
    """What publishing now would freeze (from the entries' statuses and award decisions)."""
    campaign = campaign_or_404()
    lines = lists.candidates(campaign, kind)
    return render(
        "console/publication_draft.html",
        "lines",
        kind=kind,
        kinds=lists.KINDS,
        pager=paginate_rows(lines),
        withheld=sum(1 for line in lines if line["unit_withheld"]),
        latest=lists.latest(campaign, kind),
        default_title=f"{campaign.title}{lists.KINDS[kind]}公示",
        today=lists.local_today(campaign),
        working_days=DEFAULT_WORKING_DAYS,
        note=lists.NOTE,
    )


@bp.post("/publications")
@page_for("organizer")
@changes_publications
def publish():
    publication = lists.publish(campaign_or_404(), _settings(), actor())
    return _to(publication)


@bp.get("/publications/<int:publication_id>")
@page_for("organizer")
def show(publication_id: int):
    publication = publication_of(publication_id)
    campaign = publication.campaign
    versions = (
        Publication.select()
        .where((Publication.campaign == campaign) & (Publication.kind == publication.kind))
        .order_by(Publication.version.desc())
    )
    withdrawn = lists.withdrawn_entries(publication)
    return render(
        "console/publication_show.html",
        "items",
        publication=publication,
        kinds=lists.KINDS,
        states=STATE_LABELS,
        window=WINDOW_LABELS[
            window_state(publication.starts_on, publication.ends_on, lists.local_today(campaign))
        ],
        pager=paginate(publication.items.order_by(PublicationItem.position)),
        versions=list(versions),
        open_objections=lists.open_objections(publication),
        objection_count=publication.objections.count(),
        withdrawn=withdrawn,
        withdrawn_lines=[i for i in lists.items(publication) if i.entry_id in withdrawn],
        awards=AWARDS,
        note=lists.NOTE,
    )


@bp.get("/publications/<int:publication_id>/print")
@page_for("organizer")
def print_view(publication_id: int):
    """The whole frozen list on one page, laid out for paper (no pagination, no controls)."""
    publication = publication_of(publication_id)
    return render(
        "console/publication_print.html",
        publication=publication,
        lines=lists.items(publication),
        kinds=lists.KINDS,
        note=lists.NOTE,
    )


@bp.post("/publications/<int:publication_id>/window")
@page_for("organizer")
@changes_publications
def set_window(publication_id: int):
    data = {k: request.form[k] for k in ("starts_on", "ends_on") if request.form.get(k)}
    lists.set_window(publication_of(publication_id), data, actor())
    return _to(publication_of(publication_id))


@bp.post("/publications/<int:publication_id>/finalize")
@page_for("organizer")
@changes_publications
def finalize(publication_id: int):
    return _to(lists.finalize(publication_of(publication_id), actor()))


@bp.post("/publications/<int:publication_id>/republish")
@page_for("organizer")
@changes_publications
def republish(publication_id: int):
    """递补: the form names replacements as `entry` + `award` pairs (empty rows are skipped)."""
    form = request.form
    additions = []
    for entry, award in zip(form.getlist("entry"), form.getlist("award"), strict=False):
        if entry.strip():
            additions.append({"entry": _whole(entry), "award": award})
    data = {"reason": form.get("reason", ""), "add": additions}
    data.update({k: form[k] for k in ("starts_on", "ends_on") if form.get(k)})
    return _to(lists.republish(publication_of(publication_id), data, actor()))


def _settings() -> dict:
    """The publish form as the rules' input (the API's JSON shape)."""
    form = request.form
    data = {"kind": form.get("kind", "")}
    data.update({name: form[name] for name in SETTING_FIELDS if form.get(name, "").strip()})
    if form.get("working_days", "").strip():
        data["working_days"] = _whole(form["working_days"])
    return data


def _whole(text: str):
    """A typed whole number as an int; anything else is passed on for the rules to refuse."""
    text = text.strip()
    return int(text) if text.isdigit() and len(text) < 10 else text


def _to(publication: Publication):
    """To the list's page: for htmx an `HX-Redirect` (see notices.py)."""
    location = url_for("console.publication.show", publication_id=publication.id)
    if request.headers.get("HX-Request"):
        return "", 204, {"HX-Redirect": location}
    return redirect(location, 303)


def publication_of(publication_id: int) -> Publication:
    """A list of the current campaign, or 404 (as if it did not exist)."""
    publication = Publication.get_or_none(
        (Publication.id == publication_id) & (Publication.campaign == campaign_or_404())
    )
    if publication is None:
        raise ApiError(404, "not_found", "请求的内容不存在")
    return publication
