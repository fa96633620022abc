"""The board: per track and domain, every reviewed entry with the numbers an organizer
reads (REVIEW-NOTES §3.2), and each expert's leniency said in words.

- 加权总分 (mean): the mean of the experts' totals out of 100;
- 中位数 (median): with three experts, the same as dropping the highest and the lowest;
- 分差 (spread): highest minus lowest, flagged at or above the campaign's threshold;
- 校正分 (corrected): the additive model y = f_entry + b_expert + ε fitted by ridge least
  squares (λ on b), so an expert who scores everyone 5 points low no longer drags down the
  entries they happened to draw; b_expert is the expert's leniency (宽严度);
- gate: any 不通过, or two 存疑, puts the entry in the chair's queue until the chair rules.
"""

import statistics

from peewee import fn

from campaign.definition import options
from campaign.review.rubric import review_settings
from models import Account, Assignment, Campaign, Decision, Entry, ReviewHold, Score

ITERATIONS = 200


def submitted_reviews(campaign: Campaign) -> list[tuple]:
    """(entry id, expert id, total, gate) of every submitted review."""
    totals: dict = {}
    for assignment_id, value in (
        Score.select(Score.assignment, Score.value)
        .join(Assignment)
        .join(Entry)
        .where((Entry.campaign == campaign) & Assignment.submitted_at.is_null(False))
        .tuples()
    ):
        totals[assignment_id] = totals.get(assignment_id, 0.0) + value
    rows = (
        Assignment.select(Assignment.id, Assignment.entry, Assignment.expert, Assignment.gate)
        .join(Entry)
        .where((Entry.campaign == campaign) & Assignment.submitted_at.is_null(False))
        .order_by(Assignment.id)
        .tuples()
    )
    return [(entry, expert, round(totals.get(a, 0.0), 2), gate) for a, entry, expert, gate in rows]


def leniency(reviews: list[tuple], shrinkage: float) -> tuple[dict, dict]:
    """Fit y = f_entry + b_expert by ridge least squares (block coordinate descent, exact at
    convergence); return (f per entry, b per expert)."""
    by_entry: dict = {}
    by_expert: dict = {}
    for entry, expert, score, _ in reviews:
        by_entry.setdefault(entry, []).append((expert, score))
        by_expert.setdefault(expert, []).append((entry, score))
    bias = dict.fromkeys(by_expert, 0.0)
    quality: dict = {}
    for _ in range(ITERATIONS):
        quality = {
            e: sum(s - bias[x] for x, s in pairs) / len(pairs) for e, pairs in by_entry.items()
        }
        new_bias = {
            x: sum(s - quality[e] for e, s in pairs) / (len(pairs) + shrinkage)
            for x, pairs in by_expert.items()
        }
        moved = max((abs(new_bias[x] - bias[x]) for x in bias), default=0.0)
        bias = new_bias
        if moved < 1e-7:
            break
    return quality, bias


def leniency_words(offset: float, scored: int) -> str:
    """ "平均比其他专家高 3.2 分" — what an organizer can repeat to a committee."""
    if abs(offset) < 1.0:
        words = "与其他专家打分基本一致"
    else:
        words = f"平均比其他专家{'高' if offset > 0 else '低'} {abs(offset):.1f} 分"
    return words + ("（评分少于 10 件，仅供参考）" if scored < 10 else "")


def gate_state(gates: list[str]) -> str:
    """pass | doubt (one 存疑) | chair (any 不通过, or two 存疑)."""
    if "fail" in gates or gates.count("doubt") >= 2:
        return "chair"
    return "doubt" if "doubt" in gates else "pass"


def board(campaign: Campaign, track: str | None = None, domain: str | None = None) -> dict:
    settings = review_settings(campaign)
    reviews = submitted_reviews(campaign)
    quality, bias = leniency(reviews, settings["shrinkage"])
    per_entry: dict = {}
    for entry, expert, score, gate in reviews:
        per_entry.setdefault(entry, []).append((expert, score, gate))
    assigned = _assigned_counts(campaign)
    criteria = criterion_means(campaign)
    holds = {
        (h.entry_id, h.kind): h
        for h in ReviewHold.select().join(Entry).where(Entry.campaign == campaign)
    }
    decisions = {
        d.entry_id: d for d in Decision.select().join(Entry).where(Entry.campaign == campaign)
    }
    entries = Entry.select(Entry.id, Entry.title, Entry.track, Entry.domain, Entry.status).where(
        (Entry.campaign == campaign) & Entry.id.in_(list(assigned) or [0])
    )
    if track:
        entries = entries.where(Entry.track == track)
    if domain:
        entries = entries.where(Entry.domain == domain)
    rows = [
        _row(
            entry,
            per_entry.get(entry.id, []),
            assigned[entry.id],
            quality,
            holds,
            decisions,
            settings,
        )
        | {"criteria": criteria.get(entry.id, {})}
        for entry in entries.order_by(Entry.id)
    ]
    basis = "corrected" if settings["ranking_basis"] == "corrected" else "mean"
    groups = _groups(campaign, rows, basis)
    return {
        "basis": basis,
        "groups": groups,
        "chair_queue": [r for r in rows if r["chair"] == "open"],
        "experts": expert_panel(bias, reviews),
        "quotas": quota_use(campaign),
    }


def criterion_means(campaign: Campaign) -> dict:
    """entry id → {criterion: mean points} over submitted reviews."""
    rows = (
        Score.select(Assignment.entry, Score.criterion, fn.AVG(Score.value))
        .join(Assignment)
        .join(Entry)
        .where((Entry.campaign == campaign) & Assignment.submitted_at.is_null(False))
        .group_by(Assignment.entry, Score.criterion)
        .tuples()
    )
    means: dict = {}
    for entry, criterion, mean in rows:
        means.setdefault(entry, {})[criterion] = round(float(mean), 2)
    return means


def _assigned_counts(campaign: Campaign) -> dict:
    counts: dict = {}
    for (entry,) in (
        Assignment.select(Assignment.entry).join(Entry).where(Entry.campaign == campaign).tuples()
    ):
        counts[entry] = counts.get(entry, 0) + 1
    return counts


def _row(entry, reviews, assigned, quality, holds, decisions, settings) -> dict:
    totals = [score for _, score, _ in reviews]
    gates = [gate for _, _, gate in reviews]
    spread = round(max(totals) - min(totals), 2) if totals else None
    chair = holds.get((entry.id, "chair"))
    recheck = holds.get((entry.id, "recheck"))
    gate = gate_state(gates) if gates else None
    decision = decisions.get(entry.id)
    return {
        "entry": entry.id,
        "title": entry.title,
        "track": entry.track,
        "domain": entry.domain,
        "status": entry.status,
        "reviews": len(totals),
        "assigned": assigned,
        "mean": round(statistics.fmean(totals), 2) if totals else None,
        "median": round(statistics.median(totals), 2) if totals else None,
        "spread": spread,
        "disagreement": spread is not None and spread >= settings["disagreement"],
        "corrected": round(quality[entry.id], 2) if entry.id in quality else None,
        "gate": gate,
        "chair": (chair.outcome or chair.state) if chair else ("open" if gate == "chair" else None),
        "recheck": (recheck.outcome or recheck.state) if recheck else None,
        "decision": {"outcome": decision.award, "state": decision.state} if decision else None,
    }


def _groups(campaign: Campaign, rows: list, basis: str) -> list:
    """Rows per (track, domain), ranked on the basis; gate cases are kept but unranked."""
    labels = {o.code: o.label for o in options(campaign, "domain")}
    tracks = {o.code: o.label for o in options(campaign, "track")}
    grouped: dict = {}
    for row in rows:
        grouped.setdefault((row["track"], row["domain"]), []).append(row)
    out = []
    for (track, domain), items in sorted(grouped.items()):
        ranked = sorted(
            items,
            key=lambda r: (
                r[basis] is None,
                r["chair"] in ("open", "fail"),
                -(r[basis] or 0),
                r["entry"],
            ),
        )
        for rank, row in enumerate(ranked, 1):
            row["rank"] = rank
        out.append(
            {
                "track": track,
                "track_label": tracks.get(track, track),
                "domain": domain,
                "domain_label": labels.get(domain, domain),
                "entries": ranked,
            }
        )
    return out


def expert_panel(bias: dict, reviews: list) -> list:
    names = dict(
        Account.select(Account.id, Account.display_name)
        .where(Account.id.in_(list(bias) or [0]))
        .tuples()
    )
    scored: dict = {}
    for _, expert, score, _ in reviews:
        scored.setdefault(expert, []).append(score)
    return [
        {
            "expert": expert,
            "name": names.get(expert, ""),
            "scored": len(scored[expert]),
            "mean": round(statistics.fmean(scored[expert]), 2),
            "leniency": round(bias[expert], 2),
            "words": leniency_words(bias[expert], len(scored[expert])),
            "flag": abs(bias[expert]) >= 5
            or (len(scored[expert]) >= 5 and statistics.pstdev(scored[expert]) < 1.0),
        }
        for expert in sorted(bias)
    ]


def quota_use(campaign: Campaign) -> dict:
    """Per outcome: the target (brand and case from the plan), applied and staged counts;
    and the same per domain."""
    quotas = campaign.quotas or {}
    use: dict = {}
    per_domain: dict = {}
    for outcome, state, domain in (
        Decision.select(Decision.award, Decision.state, Entry.domain)
        .join(Entry)
        .where(Entry.campaign == campaign)
        .tuples()
    ):
        row = use.setdefault(outcome, {"target": quotas.get(outcome), "applied": 0, "staged": 0})
        row["applied" if state == "applied" else "staged"] += 1
        counts = per_domain.setdefault(domain, {})
        counts[outcome] = counts.get(outcome, 0) + 1
    for outcome in ("brand", "case"):
        use.setdefault(outcome, {"target": quotas.get(outcome), "applied": 0, "staged": 0})
    for row in use.values():
        total = row["applied"] + row["staged"]
        row["over"] = row["target"] is not None and total > row["target"]
    return {"outcomes": use, "domains": per_domain}


def borderline(campaign: Campaign, track: str, quota: int | None = None) -> list[int]:
    """Entries of a track whose score lies within the band around the cut line (the score of
    the quota-th entry on the ranking basis): the 复核 candidates."""
    settings = review_settings(campaign)
    quota = quota or (campaign.quotas or {}).get(track) or 0
    data = board(campaign, track=track)
    basis = data["basis"]
    rows = sorted(
        (
            r
            for g in data["groups"]
            for r in g["entries"]
            if r[basis] is not None and r["chair"] not in ("open", "fail")
        ),
        key=lambda r: -r[basis],
    )
    if not rows or quota <= 0:
        return []
    cut = rows[min(quota, len(rows)) - 1][basis]
    return sorted(r["entry"] for r in rows if abs(r[basis] - cut) <= settings["band"])
