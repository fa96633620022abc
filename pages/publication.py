"""`/p/`: the public list page (初选名单 / 入选名单), its share image, and the H5 objection form.

The page is server-rendered and mobile-first, for WeChat's browser: plain HTML and inline CSS,
no script. WeChat builds a share card from `<title>`, the description and the first image of
at least 300 px in the body (a hidden share image comes first), other apps from the og: tags.
Pages and images come from the publication cache (tasks.publication_cache): a viral share never
reaches the database. The objection form is not cached and is rate-limited per client address
and per phone number, shared across all web processes.
"""

import io
import textwrap

from flask import Blueprint, current_app, render_template, request
from markupsafe import Markup, escape
from PIL import Image, ImageDraw

from api.public.cached import CachedPaths, cached_response
from api.public.limits import objection_allowed
from campaign.definition import current_campaign
from campaign.publication import lists, objections, public
from campaign.publication.window import window_state
from config import current_settings
from drawing.cjkfont import FontMissing, pillow_font
from models import Publication
from storage import get_storage
from tasks import publication_cache

bp = Blueprint("publication_pages", __name__, template_folder="templates")
# The hot paths (/p/, /p/<id>, /api/v1/publications/…) answer from memory before routing.
bp.record_once(lambda state: setattr(state.app, "wsgi_app", CachedPaths(state.app.wsgi_app)))

HTML = "text/html; charset=utf-8"
SHARE_SIZE = 600


@bp.get("/p/")
def current_page():
    return cached_response(publication_cache.fetch("page:current", lambda: _build_page(None)))


@bp.get("/p/<int:publication_id>")
def version_page(publication_id: int):
    key = f"page:{publication_id}"
    return cached_response(publication_cache.fetch(key, lambda: _build_page(publication_id)))


@bp.get("/p/<int:publication_id>/share.png")
def share_image(publication_id: int):
    key = f"share:{publication_id}"
    return cached_response(publication_cache.fetch(key, lambda: _build_share(publication_id)))


def _find(publication_id: int | None):
    campaign = current_campaign()
    if publication_id is None:
        return lists.current(campaign), campaign
    publication = Publication.get_or_none(Publication.id == publication_id)
    return publication, publication.campaign if publication else campaign


def _build_page(publication_id: int | None) -> tuple[bytes, str, float, int]:
    publication, campaign = _find(publication_id)
    expires = public.valid_until(publication, campaign)
    if publication is None:
        html = render_template(
            "publication/message.html", title="名单公示", message="名单尚未公布。"
        )
        return html.encode(), HTML, expires, 404
    data = public.payload(publication)
    base = current_settings().public_base_url.rstrip("/")
    description = (
        f"{data['campaign']['organizer']}公示{data['kind_label']}，共{len(data['items'])}项，"
        f"公示期{_window(publication)}。"
    )
    html = render_template(
        "publication/list.html",
        p=data,
        groups=public.groups(data["items"]),
        title=data["title"],
        description=description,
        window=_window(publication),
        url=f"{base}/p/{publication.id}",
        share_image=f"{base}/p/{publication.id}/share.png",
    )
    return html.encode(), HTML, expires, 200


def _window(publication: Publication) -> str:
    start, end = publication.starts_on, publication.ends_on
    tail = f"{end:%-m月%-d日}" if start.year == end.year else f"{end:%Y年%-m月%-d日}"
    return f"{start:%Y年%-m月%-d日}—{tail}"


def _build_share(publication_id: int) -> tuple[bytes, str, float, int]:
    """A square card: the list's name on the campaign's red, for WeChat and other apps."""
    publication, campaign = _find(publication_id)
    if publication is None:
        return b"", "image/png", public.valid_until(None, campaign), 404
    image = Image.new("RGB", (SHARE_SIZE, SHARE_SIZE), "#c1121f")
    draw = ImageDraw.Draw(image)
    try:
        big, small = pillow_font(64), pillow_font(30)
    except FontMissing:
        big = small = None
    lines = textwrap.wrap(publication.campaign.title, 16)[:3]
    y = 150
    for line in lines:
        draw.text((SHARE_SIZE / 2, y), line, fill="#fff", font=small, anchor="mm")
        y += 44
    draw.text((SHARE_SIZE / 2, y + 70), lists.KINDS[publication.kind], fill="#fff", font=big,
              anchor="mm")  # fmt: skip
    draw.text((SHARE_SIZE / 2, y + 160), lists.NOTE, fill="#ffd6d6", font=small, anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue(), "image/png", public.valid_until(None, campaign), 200


# --- The H5 objection form -------------------------------------------------------------------


@bp.get("/p/<int:publication_id>/objection")
def objection_form(publication_id: int):
    publication = Publication.get_or_none(Publication.id == publication_id)
    refusal = _closed(publication)
    if refusal:
        return refusal
    return _form(publication, {}, [])


@bp.post("/p/<int:publication_id>/objection")
def file_objection(publication_id: int):
    publication = Publication.get_or_none(Publication.id == publication_id)
    refusal = _closed(publication)
    if refusal:
        return refusal
    form = {name: request.form.get(name, "") for name in
            ("filer_kind", "item", "unit_name", "name", "phone", "content")}  # fmt: skip
    if not objection_allowed(form["phone"]):
        return _message("操作过于频繁", "提交次数过多，请稍后再试，或通过电话、信函反映。", 429)
    upload = request.files.get("letter")
    letter = upload.stream if upload and upload.filename else None
    try:
        objections.file_objection(
            publication, form, "h5", "public:h5", letter=letter, storage=get_storage()
        )
    except objections.ObjectionInvalid as invalid:
        return _form(publication, form, invalid.problems), 422
    except objections.ObjectionRefused as refused:
        return _message("无法提交", refused.message, 409, publication)
    return _message(
        "异议已收到",
        "我们已收到您的异议，将在核实后通过您留下的电话答复。感谢您对公示工作的监督。",
        201,
        publication,
    )


@bp.errorhandler(413)
def _too_large(_error):
    """The form's letter is over the request cap: a page saying so, not a JSON error."""
    advice = "上传的材料超过 2MB，请压缩或拍照后重新提交，也可通过信函反映。"
    return _message("文件过大", advice, 413)


def _closed(publication: Publication | None):
    if publication is None:
        return _message("名单公示", "名单不存在。", 404)
    today = lists.local_today(publication.campaign)
    state = window_state(publication.starts_on, publication.ends_on, today)
    if publication.state != lists.OPEN or state != "open":
        return _message(
            "不在公示期内", "本名单当前不在公示期内，不能在线提出异议。", 409, publication
        )
    return None


def _form(publication: Publication, form: dict, problems: list):
    by_field = {}
    for found in problems:
        by_field.setdefault(found["field"], found["message"])

    def problem(field: str) -> Markup:
        message = by_field.get(field)
        return Markup(f'<p class="problem">{escape(message)}</p>') if message else Markup("")

    html = render_template(
        "publication/objection.html",
        title="提出异议",
        publication=publication,
        form=form,
        problems=problems,
        problem=problem,
    )
    return current_app.response_class(html, mimetype=HTML, headers={"Cache-Control": "no-store"})


def _message(title: str, message: str, status: int, publication=None):
    back = f"/p/{publication.id}" if publication else "/p/"
    html = render_template("publication/message.html", title=title, message=message, back=back)
    response = current_app.response_class(html, status=status, mimetype=HTML)
    response.headers["Cache-Control"] = "no-store"
    return response
