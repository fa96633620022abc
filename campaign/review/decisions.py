"""Selection: organizers stage a decision per entry — shortlisted (初选) first, then awarded
brand, awarded case, or not selected — and apply the staged ones in one transaction.

Quotas are targets, not caps (the plan says 10 and 100; the 2021 run chose 50 and 253):
staging beyond a target asks for a reason, which is audited. Applying moves every status
through `campaign.entries.status.move` or none at all, then queues the award and not-selected
messages through the outbox, once per applied decision batch (one message per person).
"""

import secrets

from campaign.audit import record
from campaign.channels.recommending import VISIBLE_CHECKS
from campaign.entries import status as entry_status
from campaign.review.board import gate_state
from campaign.review.messages import queue_notice
from campaign.review.refusals import REVIEW_MESSAGES, Invalid, Refused
from models import Assignment, Campaign, Decision, Entry, ReviewHold, db, utcnow

TARGETS = {
    "shortlisted": entry_status.SHORTLISTED,
    "brand": entry_status.AWARDED,
    "case": entry_status.AWARDED,
    "none": entry_status.NOT_SELECTED,
}
LABELS = {"shortlisted": "初选", "brand": "入选品牌", "case": "入选优秀案例", "none": "未入选"}
POSITIVE = ("shortlisted", "brand", "case")


def stage(entry: Entry, outcome: str, reason: str, actor: str) -> Decision:
    """Stage (or change) the pending decision on an entry."""
    if not isinstance(outcome, str) or outcome not in TARGETS:
        raise Invalid(
            [
                {
                    "field": "outcome",
                    "code": "invalid_choice",
                    "message": REVIEW_MESSAGES["invalid_choice"],
                    "choices": list(TARGETS),
                }
            ]
        )
    if not entry_status.can_move(entry.status, TARGETS[outcome]):
        label = entry_status.LABELS.get(entry.status, entry.status)
        raise Refused("illegal_outcome", f"作品当前状态（{label}）不能{LABELS[outcome]}")
    if outcome in POSITIVE:
        _refuse_if_held(entry, final=outcome != "shortlisted")
    reason = reason.strip() if isinstance(reason, str) else ""
    over = _over_quota(entry, outcome)
    if over and not reason:
        raise Invalid(
            [
                {
                    "field": "reason",
                    "code": "over_quota",
                    "message": REVIEW_MESSAGES["over_quota"],
                    **over,
                }
            ]
        )
    with db.atomic():
        fields = {
            "award": outcome,
            "state": "pending",
            "reason": reason[:2000],
            "decided_by": actor,
            "decided_at": utcnow(),
            "applied_at": None,
        }
        if not Decision.update(**fields).where(Decision.entry == entry.id).execute():
            Decision.create(entry=entry.id, **fields)
        decision = Decision.get(Decision.entry == entry.id)
        record(
            actor,
            "decision.stage",
            decision,
            None,
            {"entry": entry.id, "outcome": outcome, "reason": reason, "over_quota": bool(over)},
            entry.campaign_id,
        )
    return decision


def _refuse_if_held(entry: Entry, final: bool) -> None:
    """No positive decision while the chair has not cleared a gate case, nor a final one while
    the committee re-review (复核) is open."""
    holds = {h.kind: h for h in ReviewHold.select().where(ReviewHold.entry == entry.id)}
    gates = [
        gate
        for (gate,) in Assignment.select(Assignment.gate)
        .where((Assignment.entry == entry.id) & Assignment.submitted_at.is_null(False))
        .tuples()
    ]
    chair = holds.get("chair")
    if gates and gate_state(gates) == "chair" and (chair is None or chair.outcome != "pass"):
        raise Refused("chair_pending", "政治性存在异议，须主审裁定通过后才能入选")
    recheck = holds.get("recheck")
    if final and recheck is not None and recheck.state == "open":
        raise Refused("recheck_pending", "该作品正在复核，复核完成后才能决定")


def _over_quota(entry: Entry, outcome: str) -> dict | None:
    target = (entry.campaign.quotas or {}).get(outcome)
    if target is None:
        return None
    taken = (
        Decision.select()
        .join(Entry)
        .where(
            (Entry.campaign == entry.campaign_id)
            & (Decision.award == outcome)
            & (Decision.entry != entry.id)
        )
        .count()
    )
    return {"target": target, "taken": taken} if taken >= target else None


def unstage(entry: Entry, actor: str) -> None:
    deleted = (
        Decision.delete()
        .where((Decision.entry == entry.id) & (Decision.state == "pending"))
        .execute()
    )
    if not deleted:
        raise Refused("no_pending_decision", "该作品没有待执行的决定")
    record(actor, "decision.unstage", entry, None, None, entry.campaign_id)


def decision_view(decision: Decision) -> dict:
    return {
        "entry": decision.entry_id,
        "outcome": decision.award,
        "label": LABELS.get(decision.award, decision.award),
        "state": decision.state,
        "reason": decision.reason,
        "decided_by": decision.decided_by,
        "applied_at": decision.applied_at and decision.applied_at.isoformat() + "Z",
    }


def pending(campaign: Campaign) -> list[Decision]:
    return list(
        Decision.select()
        .join(Entry)
        .where((Entry.campaign == campaign) & (Decision.state == "pending"))
        .order_by(Decision.entry)
    )


def apply(campaign: Campaign, actor: str) -> dict:
    """Every pending decision, in one transaction: each status through `status.move`, or
    none (Refused lists what could not move). Then one notice per kind of result."""
    batch = f"{utcnow():%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
    with db.atomic():
        staged = pending(campaign)
        if not staged:
            raise Refused("nothing_to_apply", "没有待执行的决定")
        failed, owners = [], {"awarded": [], "not_selected": []}
        for decision in staged:
            entry = Entry.get_by_id(decision.entry_id)
            try:
                entry_status.move(
                    entry,
                    TARGETS[decision.award],
                    actor,
                    note=decision.reason or LABELS[decision.award],
                )
            except entry_status.IllegalTransition as illegal:
                failed.append(
                    {
                        "field": f"entries.{entry.id}",
                        "code": "illegal_transition",
                        "status": illegal.current,
                        "outcome": decision.award,
                    }
                )
                continue
            if decision.award in ("brand", "case"):
                owners["awarded"].append(entry.owner_id)
            elif decision.award == "none":
                owners["not_selected"].append(entry.owner_id)
        if failed:  # the transaction rolls back every move made so far
            raise Refused("apply_failed", "部分作品状态已变化，全部决定均未执行", failed)
        ids = [d.id for d in staged]
        Decision.update(state="applied", applied_at=utcnow()).where(Decision.id.in_(ids)).execute()
        notices = {
            kind: queue_notice(
                campaign,
                (kind, "result"),
                users,
                f"decisions:{batch}:{kind}",
                "评选结果通知",
                actor,
            )
            for kind, users in owners.items()
        }
        record(
            actor,
            "decision.apply",
            campaign,
            None,
            {"batch": batch, "applied": len(ids), "notices": notices},
            campaign.id,
        )
    return {"applied": len(ids), "batch": batch, "notices": [n for n in notices.values() if n]}


def open_review(campaign: Campaign, actor: str) -> int:
    """Start review: entries ready for it (online entries submitted, department entries
    endorsed, text cleared) move to under_review; the review window opens now if unset."""
    ready = Entry.select().where(
        (Entry.campaign == campaign)
        & Entry.content_check.in_(VISIBLE_CHECKS)
        & (
            (Entry.status == entry_status.ENDORSED)
            | ((Entry.status == entry_status.SUBMITTED) & Entry.department.is_null())
        )
    )
    moved = 0
    with db.atomic():
        for entry in ready.order_by(Entry.id):
            entry_status.move(entry, entry_status.UNDER_REVIEW, actor, note="进入专家点评")
            moved += 1
        if campaign.review_opens_at is None or campaign.review_opens_at > utcnow():
            Campaign.update(review_opens_at=utcnow()).where(Campaign.id == campaign.id).execute()
        record(actor, "review.open", campaign, None, {"entries": moved}, campaign.id)
    return moved
