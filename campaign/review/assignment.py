"""Who reviews what: a pure function from an instance (entries, experts, hard and soft
conflicts, pairs that may not move) to an assignment, solved exactly as a min-cost flow.

The graph is HotCRP's and OpenReview's (REVIEW-NOTES §2.4):

    SRC ─▶ expert (one arc per unit of load, the t-th costing W·t) ─▶ entry ─▶ SNK
                                                         (the r-th reviewer rewarded B·(k−r+1))
    SRC ─▶ SNK (slack, cost 0), so the flow is always feasible

Costs are lexicographic, each layer dwarfing everything below it:
1. coverage, tiered: an entry's r-th reviewer earns more than anyone's (r+1)-th, so when
   experts are short every entry gets k−1 before any gets k (B exceeds any path's cost);
2. stability: a live pair that is not submitted stays unless coverage needs it elsewhere,
   so a re-run moves as few pairs as possible (a kept pair is worth more than any load
   it could even out);
3. load balance: a convex cost per unit of load minimizes the sorted load vector, which
   makes max − min optimal for the coverage reached, over the pairs free to move (W
   exceeds every soft cost summed);
4. soft conflicts (same region, same system) as small penalties.
Hard conflicts and domain mismatches are missing arcs, never penalties; pins and submitted
pairs are subtracted first (from the expert's cap and the entry's need) and never move.
Everything is built in id order, so the same instance gives the same answer.
"""

import time
from dataclasses import dataclass, field

from ortools.graph.python import min_cost_flow


@dataclass(frozen=True)
class Expert:
    id: int
    domains: frozenset
    cap: int


@dataclass(frozen=True)
class Instance:
    """`entries`: entry id → domain; pairs are (expert id, entry id)."""

    entries: dict
    experts: tuple
    k: int = 3
    forbidden: frozenset = frozenset()
    penalty: dict = field(default_factory=dict)
    fixed: frozenset = frozenset()
    current: frozenset = frozenset()

    def eligible(self, expert: Expert, entry_id: int) -> bool:
        return (
            self.entries[entry_id] in expert.domains and (expert.id, entry_id) not in self.forbidden
        )


@dataclass
class Result:
    pairs: list  # every pair, fixed ones included, sorted
    coverage: dict  # entry id → reviewers
    loads: dict  # expert id → entries
    solve_ms: float = 0.0

    @property
    def balance(self) -> int:
        return max(self.loads.values()) - min(self.loads.values()) if self.loads else 0


def solve(instance: Instance) -> Result:
    """The assignment; never violates a hard rule (checked again by `violations`)."""
    started = time.perf_counter()
    experts = sorted(instance.experts, key=lambda e: e.id)
    entry_ids = sorted(instance.entries)
    fixed = sorted(p for p in instance.fixed if p[1] in instance.entries)
    fixed_load = _count(p[0] for p in fixed)
    fixed_cover = _count(p[1] for p in fixed)
    need = {i: max(instance.k - fixed_cover.get(i, 0), 0) for i in entry_ids}
    demand = sum(need.values())
    candidates = _candidates(instance, experts, entry_ids, need)
    top_cap = max((e.cap for e in experts), default=0)
    soft = max(instance.penalty.values(), default=0) + 1
    weight = soft * (demand + 1) + 1  # a unit of load outweighs every soft penalty together
    keep = weight * (top_cap + 1) + 1  # keeping a pair outweighs what moving it gains in load
    reward = keep * (demand + 1) + weight * (top_cap + 1) + 1  # coverage outweighs it all

    flow = min_cost_flow.SimpleMinCostFlow()
    source, sink = 0, 1
    node = {("x", e.id): 2 + n for n, e in enumerate(experts)}
    node |= {("e", i): 2 + len(experts) + n for n, i in enumerate(entry_ids)}
    tails, heads, caps, costs = [], [], [], []

    def arc(tail, head, capacity, cost):
        tails.append(tail), heads.append(head), caps.append(capacity), costs.append(cost)

    for expert in experts:
        for load in range(fixed_load.get(expert.id, 0) + 1, expert.cap + 1):
            arc(source, node["x", expert.id], 1, weight * load)
    pair_arcs = []
    for expert_id, entry_id in candidates:
        current = (expert_id, entry_id) in instance.current
        cost = instance.penalty.get((expert_id, entry_id), 0) - (keep if current else 0)
        pair_arcs.append((len(tails), expert_id, entry_id))
        arc(node["x", expert_id], node["e", entry_id], 1, cost)
    for entry_id in entry_ids:
        for rank in range(fixed_cover.get(entry_id, 0) + 1, instance.k + 1):
            arc(node["e", entry_id], sink, 1, -reward * (instance.k - rank + 1))
    arc(source, sink, demand, 0)
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    flow.set_node_supply(source, demand)
    flow.set_node_supply(sink, -demand)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended with status {status}")
    chosen = [(x, e) for index, x, e in pair_arcs if flow.flow(index) > 0]
    pairs = sorted(set(fixed) | set(chosen))
    elapsed = (time.perf_counter() - started) * 1000
    return _result(instance, pairs, elapsed)


def _candidates(instance: Instance, experts: list, entry_ids: list, need: dict) -> list:
    """Eligible (expert, entry) arcs, minus the fixed ones, for entries that still need some."""
    by_domain: dict = {}
    for expert in experts:
        for domain in sorted(expert.domains):
            by_domain.setdefault(domain, []).append(expert)
    fixed = instance.fixed
    return [
        (expert.id, entry_id)
        for entry_id in entry_ids
        if need[entry_id]
        for expert in by_domain.get(instance.entries[entry_id], ())
        if (expert.id, entry_id) not in fixed and instance.eligible(expert, entry_id)
    ]


def _count(items) -> dict:
    counts: dict = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


def _result(instance: Instance, pairs: list, solve_ms: float) -> Result:
    coverage = dict.fromkeys(instance.entries, 0) | _count(e for _, e in pairs)
    loads = {expert.id: 0 for expert in instance.experts} | _count(x for x, _ in pairs)
    return Result(pairs=pairs, coverage=coverage, loads=loads, solve_ms=solve_ms)


def violations(instance: Instance, pairs: list) -> list[str]:
    """Every broken invariant of an assignment (empty when it may be published): new pairs
    must be eligible, caps and k hold, fixed pairs are all there."""
    experts = {expert.id: expert for expert in instance.experts}
    problems = []
    chosen = set(pairs)
    if len(chosen) != len(pairs):
        problems.append("duplicate pairs")
    for expert_id, entry_id in sorted(chosen - set(instance.fixed)):
        expert = experts.get(expert_id)
        if expert is None or entry_id not in instance.entries:
            problems.append(f"unknown pair {expert_id}/{entry_id}")
        elif not instance.eligible(expert, entry_id):
            problems.append(f"ineligible pair {expert_id}/{entry_id}")
    loads = _count(x for x, _ in chosen)
    problems += [
        f"expert {x} over cap ({n} > {experts[x].cap})"
        for x, n in sorted(loads.items())
        if x in experts and n > max(experts[x].cap, _count(p[0] for p in instance.fixed).get(x, 0))
    ]
    cover = _count(e for _, e in chosen - set(instance.fixed))
    fixed_cover = _count(e for _, e in instance.fixed)
    problems += [
        f"entry {e} over k"
        for e, n in sorted(cover.items())
        if n + fixed_cover.get(e, 0) > max(instance.k, fixed_cover.get(e, 0))
    ]
    missing = set(instance.fixed) - chosen
    problems += [f"fixed pair {x}/{e} moved" for x, e in sorted(missing)]
    return problems


def shortfall(instance: Instance, result: Result) -> dict:
    """Per domain: entries, expert-slots needed, slots its experts have left, assigned and
    still missing; the pre-flight's numbers."""
    report: dict = {}
    fixed_load = _count(x for x, _ in instance.fixed)
    for entry_id, domain in sorted(instance.entries.items()):
        row = report.setdefault(domain, {"entries": 0, "needed": 0, "assigned": 0})
        row["entries"] += 1
        row["needed"] += instance.k
        row["assigned"] += min(result.coverage.get(entry_id, 0), instance.k)
    for domain, row in report.items():
        row["short"] = row["needed"] - row["assigned"]
        row["experts"] = sum(1 for e in instance.experts if domain in e.domains)
        row["capacity"] = sum(
            max(e.cap - fixed_load.get(e.id, 0), 0) for e in instance.experts if domain in e.domains
        )
    return report
