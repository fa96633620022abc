"""The 专家点评 published with an awarded entry: one expert's comment, or an edited synthesis
of several, attributed as the organizer decides (e.g. 专家组点评). The publication and the
casebook read it through `published_comment`."""

from campaign.audit import record
from campaign.review.refusals import Invalid, Refused
from models import Assignment, Decision, Entry, PublishedComment, db, utcnow

AWARDS = ("brand", "case")
DEFAULT_ATTRIBUTION = "专家组点评"


def published_comment(entry_id: int) -> dict | None:
    """{"text", "attribution"} of the entry's published comment, or None."""
    row = PublishedComment.get_or_none(PublishedComment.entry == entry_id)
    return {"text": row.text, "attribution": row.attribution} if row else None


def publish_comment(entry: Entry, data: dict, actor: str) -> dict:
    """Choose the text: `assignment` (one expert's comment as it stands) or `text` (an edited
    synthesis, with the `sources` it drew on). Only for entries awarded or staged as such."""
    decision = Decision.get_or_none(Decision.entry == entry.id)
    if decision is None or decision.award not in AWARDS:
        raise Refused("not_awarded", "只能为入选作品发布专家点评")
    text, sources = _text(entry, data)
    attribution = data.get("attribution") or DEFAULT_ATTRIBUTION
    if not isinstance(attribution, str) or len(attribution) > 100:
        raise Invalid([{"field": "attribution", "code": "invalid_type", "message": "格式不正确"}])
    with db.atomic():
        fields = {
            "text": text,
            "attribution": attribution,
            "sources": sources,
            "published_by": actor,
            "published_at": utcnow(),
        }
        if (
            not PublishedComment.update(**fields)
            .where(PublishedComment.entry == entry.id)
            .execute()
        ):
            PublishedComment.create(entry=entry.id, **fields)
        record(
            actor,
            "review.comment.publish",
            entry,
            None,
            {"attribution": attribution, "sources": sources},
            entry.campaign_id,
        )
    return published_comment(entry.id)


def _text(entry: Entry, data: dict) -> tuple[str, list]:
    submitted = {
        a.id: a
        for a in Assignment.select().where(
            (Assignment.entry == entry.id) & Assignment.submitted_at.is_null(False)
        )
    }
    if data.get("assignment") is not None:
        chosen = submitted.get(data["assignment"]) if isinstance(data["assignment"], int) else None
        if chosen is None:
            raise Invalid([{"field": "assignment", "code": "not_found", "message": "对象不存在"}])
        return chosen.comment, [chosen.id]
    text = data.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > 5000:
        raise Invalid([{"field": "text", "code": "required", "message": "此项为必填项"}])
    sources = data.get("sources") or []
    if not isinstance(sources, list) or not all(
        isinstance(s, int) and s in submitted for s in sources
    ):
        raise Invalid([{"field": "sources", "code": "not_found", "message": "对象不存在"}])
    return text.strip(), sorted(sources)
