"""Assignment runs: read the campaign into a solver instance, pre-flight, solve into a draft
the organizer inspects (loads, coverage, diff), then publish it in one transaction.

The live assignment is the `Assignment` table; experts see only its rows, so nothing of a
draft is visible before publishing (hotcrp#162). Pins and pairs with a submitted review are
fixed; other live pairs are "current", kept unless balance needs them elsewhere.
"""

from campaign.audit import record
from campaign.definition import options
from campaign.entries import status as entry_status
from campaign.problems import is_row_id
from campaign.review import experts as expert_rules
from campaign.review.assignment import Expert, Instance, shortfall, solve, violations
from campaign.review.conflicts import (
    ConflictContext,
    hard_reason,
    refuse_if_conflicted,
    soft_penalty,
)
from campaign.review.messages import queue_notice
from campaign.review.refusals import Invalid, Refused
from campaign.review.rubric import review_settings
from models import Account, Assignment, AssignmentRun, Campaign, Entry, db, utcnow

POOL = (entry_status.UNDER_REVIEW,)
DRAFT, PUBLISHED, DISCARDED = "draft", "published", "discarded"
INSERT_BATCH = 1000


def pool(campaign: Campaign) -> list[Entry]:
    """The entries being reviewed, by id."""
    return list(
        Entry.select()
        .where((Entry.campaign == campaign) & Entry.status.in_(POOL))
        .order_by(Entry.id)
    )


def live_pairs(campaign: Campaign) -> dict:
    """(expert, entry) → Assignment, for every live assignment of the campaign."""
    rows = Assignment.select().join(Entry).where(Entry.campaign == campaign)
    return {(a.expert_id, a.entry_id): a for a in rows}


def build_instance(campaign: Campaign, k: int | None = None) -> Instance:
    """The solver's view of the campaign, read in id order (so it is deterministic)."""
    k = k or review_settings(campaign)["k"]
    profiles = expert_rules.profiles(campaign)
    entries = pool(campaign)
    context = ConflictContext(campaign)
    forbidden, penalty = set(), {}
    for profile in profiles:
        for entry in entries:
            if entry.domain not in profile.domains:
                continue
            pair = (profile.account_id, entry.id)
            if hard_reason(profile, entry, context):
                forbidden.add(pair)
            elif cost := soft_penalty(profile, entry, context):
                penalty[pair] = cost
    pooled = {e.id for e in entries}
    live = {p: a for p, a in live_pairs(campaign).items() if p[1] in pooled}
    fixed = {p for p, a in live.items() if a.pinned or a.submitted_at}
    return Instance(
        entries={e.id: e.domain for e in entries},
        experts=tuple(Expert(p.account_id, frozenset(p.domains), p.cap) for p in profiles),
        k=k,
        forbidden=frozenset(forbidden),
        penalty=penalty,
        fixed=frozenset(fixed),
        current=frozenset(set(live) - fixed),
    )


def preflight(campaign: Campaign, k: int | None = None) -> dict:
    """Per domain: entries, expert-slots needed and available, and the shortfall in words
    (e.g. "农村基层党建还差 180 个专家评审名额"); plus entries no rule-abiding expert can take."""
    instance = build_instance(campaign, k)
    result = solve(instance)
    report = shortfall(instance, result)
    labels = {o.code: o.label for o in options(campaign, "domain")}
    domains = []
    for code, row in sorted(report.items(), key=lambda item: list(labels).index(item[0])):
        label = labels.get(code, code)
        message = (
            f"{label}还差 {row['short']} 个专家评审名额"
            f"（{row['entries']} 件作品需 {row['needed']} 个，"
            f"{row['experts']} 位专家可用名额 {row['capacity']} 个）"
            if row["short"]
            else f"{label}：{row['entries']} 件作品均可配齐 {instance.k} 位专家"
        )
        domains.append({"domain": code, "label": label, **row, "message": message})
    return {
        "k": instance.k,
        "entries": len(instance.entries),
        "experts": len(instance.experts),
        "feasible": all(not d["short"] for d in domains),
        "domains": domains,
        "short_entries": sorted(e for e, n in result.coverage.items() if n < instance.k),
        "solve_ms": round(result.solve_ms, 1),
    }


def create_run(campaign: Campaign, actor: str, k: int | None = None) -> AssignmentRun:
    """Solve now and keep the result as a draft run; refuse if the invariant check fails."""
    instance = build_instance(campaign, k)
    result = solve(instance)
    broken = violations(instance, result.pairs)
    if broken:
        raise Refused("assignment_invalid", "分配结果未通过校验，未保存", broken[:20])
    stats = {
        "solve_ms": round(result.solve_ms, 1),
        "balance": result.balance,
        "loads": {str(x): n for x, n in sorted(result.loads.items())},
        "domains": shortfall(instance, result),
        "short_entries": sorted(e for e, n in result.coverage.items() if n < instance.k),
    }
    with db.atomic():
        run = AssignmentRun.create(
            campaign=campaign,
            params={"k": instance.k, "entries": sorted(instance.entries)},
            pairs=[list(p) for p in result.pairs],
            stats=stats,
            created_by=actor,
        )
        record(actor, "review.run.create", run, None, {"pairs": len(result.pairs)}, campaign.id)
    return run


def diff(run: AssignmentRun) -> dict:
    """What publishing would change: pairs added, removed and kept (only entries the run
    covered: an entry shortlisted or withdrawn since keeps its pairs)."""
    covered = set(run.params.get("entries", ()))
    live = {p for p in live_pairs(run.campaign) if p[1] in covered}
    proposed = {tuple(p) for p in run.pairs}
    return {
        "added": sorted(proposed - live),
        "removed": sorted(live - proposed),
        "kept": len(live & proposed),
    }


def compare(run: AssignmentRun, other: AssignmentRun) -> dict:
    """Pairs in `run` and not in `other` (added), the reverse (removed), and how many both
    hold: two drafts side by side before choosing one."""
    mine, theirs = {tuple(p) for p in run.pairs}, {tuple(p) for p in other.pairs}
    return {
        "added": sorted(mine - theirs),
        "removed": sorted(theirs - mine),
        "kept": len(mine & theirs),
    }


def run_view(run: AssignmentRun, detail: bool = False) -> dict:
    view = {
        "id": run.id,
        "status": run.status,
        "k": run.params.get("k"),
        "pairs": len(run.pairs),
        "created_at": run.created_at.isoformat() + "Z",
        "created_by": run.created_by,
        "published_at": run.published_at and run.published_at.isoformat() + "Z",
        "solve_ms": run.stats.get("solve_ms"),
        "balance": run.stats.get("balance"),
    }
    if detail:
        changes = diff(run)
        names = dict(
            Account.select(Account.id, Account.display_name)
            .where(Account.id.in_([int(x) for x in run.stats.get("loads", {})] or [0]))
            .tuples()
        )
        view["loads"] = [
            {"expert": int(x), "name": names.get(int(x), ""), "load": n}
            for x, n in run.stats.get("loads", {}).items()
        ]
        view["domains"] = run.stats.get("domains", {})
        view["short_entries"] = run.stats.get("short_entries", [])
        view["diff"] = {
            "added": [list(p) for p in changes["added"]],
            "removed": [list(p) for p in changes["removed"]],
            "kept": changes["kept"],
        }
    return view


def publish(run: AssignmentRun, actor: str) -> int | None:
    """Make the draft the live assignment in one transaction, and queue one message to each
    expert whose list changed; return the notice id (None if nobody to tell)."""
    if run.status != DRAFT:
        raise Refused("run_not_draft", "只能发布草稿状态的分配方案")
    campaign = run.campaign
    instance = build_instance(campaign, run.params.get("k"))
    proposed = sorted(tuple(p) for p in run.pairs)
    if violations(instance, proposed):
        raise Refused("run_stale", "分配方案已过时（有新的回避、评分或作品），请重新生成")
    live = live_pairs(campaign)
    changes = diff(run)
    with db.atomic():
        moved = (
            AssignmentRun.update(status=PUBLISHED, published_by=actor, published_at=utcnow())
            .where((AssignmentRun.id == run.id) & (AssignmentRun.status == DRAFT))
            .execute()
        )
        if not moved:
            raise Refused("run_not_draft", "只能发布草稿状态的分配方案")
        removed = [live[p].id for p in changes["removed"]]
        if removed:
            Assignment.delete().where(Assignment.id.in_(removed)).execute()
        added = [
            {"expert": x, "entry": e, "run": run.id, "assigned_by": actor}
            for x, e in changes["added"]
        ]
        for start in range(0, len(added), INSERT_BATCH):
            Assignment.insert_many(added[start : start + INSERT_BATCH]).execute()
        AssignmentRun.update(status=DISCARDED).where(
            (AssignmentRun.campaign == campaign) & (AssignmentRun.status == DRAFT)
        ).execute()
        affected = {x for x, _ in changes["added"]} | {x for x, _ in changes["removed"]}
        notice_id = queue_notice(
            campaign,
            ("review",),
            _wechat_users(affected),
            f"review-run:{run.id}",
            "专家点评任务更新",
            actor,
        )
        AssignmentRun.update(notice=notice_id).where(AssignmentRun.id == run.id).execute()
        record(
            actor,
            "review.run.publish",
            run,
            None,
            {"added": len(changes["added"]), "removed": len(removed), "notice": notice_id},
            campaign.id,
        )
    return notice_id


def discard(run: AssignmentRun, actor: str) -> None:
    moved = (
        AssignmentRun.update(status=DISCARDED)
        .where((AssignmentRun.id == run.id) & (AssignmentRun.status == DRAFT))
        .execute()
    )
    if not moved:
        raise Refused("run_not_draft", "只能放弃草稿状态的分配方案")
    record(actor, "review.run.discard", run, None, None, run.campaign_id)


def _wechat_users(account_ids) -> list[int]:
    return [
        user
        for (user,) in Account.select(Account.wechat_user)
        .where(Account.id.in_(sorted(account_ids)) & Account.wechat_user.is_null(False))
        .tuples()
    ]


# --- by hand ------------------------------------------------------------------------------


def add_pair(campaign: Campaign, expert_id, entry_id, actor: str) -> tuple[Assignment, int | None]:
    """A pinned pair, checked against the hard rules, the domain and the cap; the expert is
    told through the outbox. Returns the assignment and the notice id."""
    profile, entry = _pair_parts(campaign, expert_id, entry_id)
    with db.atomic():
        if (
            Assignment.select()
            .where((Assignment.expert == profile.account_id) & (Assignment.entry == entry.id))
            .exists()
        ):
            raise Refused("duplicate", "该专家已分配此作品")
        assignment = Assignment.create(
            expert=profile.account_id, entry=entry, pinned=True, assigned_by=actor
        )
        record(actor, "review.pair.add", assignment, None, {"entry": entry.id}, campaign.id)
        notice_id = queue_notice(
            campaign,
            ("review",),
            _wechat_users({profile.account_id}),
            f"review-pin:{assignment.id}",
            "新的专家点评任务",
            actor,
        )
    return assignment, notice_id


def _pair_parts(campaign: Campaign, expert_id, entry_id):
    problems = [
        {"field": name, "code": "required", "message": "此项为必填项"}
        for name, value in (("expert", expert_id), ("entry", entry_id))
        if not is_row_id(value)
    ]
    if problems:
        raise Invalid(problems)
    profile = next((p for p in expert_rules.profiles(campaign) if p.account_id == expert_id), None)
    entry = Entry.get_or_none((Entry.id == entry_id) & (Entry.campaign == campaign))
    if profile is None or entry is None or entry.status not in POOL:
        raise Refused("not_found", "专家或作品不存在，或作品不在评审中")
    if entry.domain not in profile.domains:
        raise Refused("domain_mismatch", "作品领域不在该专家的评审领域内")
    refuse_if_conflicted(profile, entry)
    load = Assignment.select().where(Assignment.expert == profile.account_id).count()
    if load >= profile.cap:
        raise Refused("over_cap", "该专家的评审数量已达上限")
    return profile, entry


def remove_pair(assignment: Assignment, actor: str) -> None:
    """Take an unsubmitted pair away (a submitted review never moves)."""
    if assignment.submitted_at:
        raise Refused("review_submitted", "该评审已提交，不能移除")
    with db.atomic():
        Assignment.delete().where(Assignment.id == assignment.id).execute()
        record(
            actor,
            "review.pair.remove",
            assignment,
            {"expert": assignment.expert_id, "entry": assignment.entry_id},
            None,
            assignment.entry.campaign_id,
        )


def swap_pair(assignment: Assignment, expert_id, actor: str) -> tuple[Assignment, int | None]:
    """Give the entry to another expert instead, in one transaction."""
    campaign = assignment.entry.campaign
    with db.atomic():
        remove_pair(assignment, actor)
        return add_pair(campaign, expert_id, assignment.entry_id, actor)


def replacement_for(campaign: Campaign, entry: Entry) -> int | None:
    """After a recusal: the least-loaded expert who may take the entry (fewest soft
    conflicts, then lowest id), or None when nobody may."""
    instance = build_instance(campaign)
    if entry.id not in instance.entries:
        return None
    taken = instance.fixed | instance.current
    loads: dict = {}
    for x, _ in taken:
        loads[x] = loads.get(x, 0) + 1
    already = {x for x, e in taken if e == entry.id}
    if len(already) >= instance.k:
        return None
    candidates = [
        (loads.get(x.id, 0), instance.penalty.get((x.id, entry.id), 0), x.id)
        for x in instance.experts
        if x.id not in already and loads.get(x.id, 0) < x.cap and instance.eligible(x, entry.id)
    ]
    return min(candidates)[2] if candidates else None
