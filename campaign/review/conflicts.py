"""Conflicts of interest: organizational, structural and recorded (REVIEW-NOTES §0.3).

Hard (the pair is never assigned): the expert works in the entry's unit; the expert belongs
to the entry's recommending department or to its parent; a conflict the expert or an
organizer declared (with the entry, its unit or its department); a recusal (回避). Soft (a
penalty, not a ban): same region, same organization system (the expert's system is a route
code, e.g. a party-school expert and a party-school-route entry).
"""

from campaign.audit import record
from campaign.problems import is_row_id
from campaign.review.refusals import Invalid, Refused
from models import ConflictDeclaration, Department, Entry, ExpertProfile, Unit, db

SOFT_PENALTY = {"region": 2, "system": 2}
REASONS = {
    "same_unit": "专家与作品申报单位为同一单位",
    "department": "专家所在部门为作品的推荐部门或其上级部门",
    "declared": "已申报利益冲突",
    "recusal": "专家已申请回避",
}


def hard_reason(profile: ExpertProfile, entry: Entry, context: "ConflictContext") -> str | None:
    """Why this pair may never be assigned (a code of REASONS), or None."""
    if profile.unit_id and context.unit_root(entry.unit_id) == context.unit_root(profile.unit_id):
        return "same_unit"
    if profile.department_id and entry.department_id:
        if profile.department_id in context.department_and_parent(entry.department_id):
            return "department"
    for kind, unit, department, target in context.declared.get(profile.account_id, ()):
        if (
            target == entry.id
            or unit == entry.unit_id
            or (department and department == entry.department_id)
        ):
            return "recusal" if kind == "recusal" else "declared"
    return None


def soft_penalty(profile: ExpertProfile, entry: Entry, context: "ConflictContext") -> int:
    penalty = 0
    if profile.region and profile.region == context.unit_region.get(entry.unit_id):
        penalty += SOFT_PENALTY["region"]
    if profile.system and profile.system == entry.route:
        penalty += SOFT_PENALTY["system"]
    return penalty


class ConflictContext:
    """What the rules need, read once per campaign: units (merged ones resolved), department
    parents, regions and every declaration."""

    def __init__(self, campaign):
        units = Unit.select(Unit.id, Unit.merged_into, Unit.region).where(Unit.campaign == campaign)
        self.unit_parent = {u.id: u.merged_into_id for u in units}
        self.unit_region = {u.id: u.region for u in units}
        self.department_parent = {
            d.id: d.parent_id
            for d in Department.select(Department.id, Department.parent).where(
                Department.campaign == campaign
            )
        }
        self.declared: dict = {}
        rows = (
            ConflictDeclaration.select()
            .join(ExpertProfile, on=(ConflictDeclaration.expert == ExpertProfile.account))
            .where(ExpertProfile.campaign == campaign)
        )
        for row in rows:
            self.declared.setdefault(row.expert_id, []).append(
                (row.kind, row.unit_id, row.department_id, row.entry_id)
            )

    def unit_root(self, unit_id):
        seen = set()
        while self.unit_parent.get(unit_id) and unit_id not in seen:
            seen.add(unit_id)
            unit_id = self.unit_parent[unit_id]
        return unit_id

    def department_and_parent(self, department_id) -> set:
        return {department_id, self.department_parent.get(department_id)} - {None}


def declare(profile: ExpertProfile, data: dict, actor: str, kind: str = "declared"):
    """Record a hard conflict of the expert with an entry, a unit or a department."""
    campaign = profile.campaign
    targets = {"entry": Entry, "unit": Unit, "department": Department}
    found, problems = {}, []
    for name, model in targets.items():
        value = data.get(name)
        if value is None:
            continue
        row = (
            model.get_or_none((model.id == value) & (model.campaign == campaign))
            if is_row_id(value)
            else None
        )
        if row is None:
            problems.append({"field": name, "code": "not_found", "message": "对象不存在"})
        found[name] = row
    if not found and not problems:
        problems.append({"field": "entry", "code": "required", "message": "请指明作品、单位或部门"})
    if problems:
        raise Invalid(problems)
    reason = data.get("reason") if isinstance(data.get("reason"), str) else ""
    with db.atomic():
        row = ConflictDeclaration.create(
            expert=profile.account_id, kind=kind, reason=reason[:500], created_by=actor, **found
        )
        record(actor, f"conflict.{kind}", row, None, _view(row), campaign.id)
    return row


def _view(row: ConflictDeclaration) -> dict:
    return {
        "id": row.id,
        "expert": row.expert_id,
        "kind": row.kind,
        "entry": row.entry_id,
        "unit": row.unit_id,
        "department": row.department_id,
        "reason": row.reason,
        "by": row.created_by,
    }


def declarations(campaign) -> list[dict]:
    rows = (
        ConflictDeclaration.select()
        .join(ExpertProfile, on=(ConflictDeclaration.expert == ExpertProfile.account))
        .where(ExpertProfile.campaign == campaign)
        .order_by(ConflictDeclaration.id)
    )
    return [_view(row) for row in rows]


def refuse_if_conflicted(profile: ExpertProfile, entry: Entry) -> None:
    """Refused(conflict) naming the hard rule, for hand-made pairs."""
    reason = hard_reason(profile, entry, ConflictContext(profile.campaign))
    if reason:
        raise Refused("conflict", REASONS[reason], [{"field": "expert", "code": reason}])


def withdraw(row: ConflictDeclaration, actor: str) -> None:
    """Take back a declared conflict; a recusal (回避) is the expert's own word and stays."""
    if row.kind == "recusal":
        raise Refused("recusal_kept", "专家本人申请的回避不能撤销")
    campaign_id = ExpertProfile.get(ExpertProfile.account == row.expert_id).campaign_id
    with db.atomic():
        ConflictDeclaration.delete().where(ConflictDeclaration.id == row.id).execute()
        record(actor, "conflict.withdraw", row, _view(row), None, campaign_id)


def detected(campaign, profiles: list, entries: list) -> list[tuple]:
    """(profile, entry, reason) of every pair the structural rules forbid (same unit, the
    recommending department or its parent) where the entry is in the expert's domains: what
    the solver will avoid without anyone declaring it."""
    context = ConflictContext(campaign)
    context.declared = {}
    found = []
    for profile in profiles:
        for entry in entries:
            if entry.domain in profile.domains:
                reason = hard_reason(profile, entry, context)
                if reason:
                    found.append((profile, entry, reason))
    return found


def declaration_of(campaign, declaration_id: int) -> ConflictDeclaration | None:
    """A declaration of one of the campaign's experts, or None."""
    return (
        ConflictDeclaration.select()
        .join(ExpertProfile, on=(ConflictDeclaration.expert == ExpertProfile.account))
        .where((ConflictDeclaration.id == declaration_id) & (ExpertProfile.campaign == campaign))
        .first()
    )
