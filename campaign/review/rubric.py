"""The rubric as campaign data: 政治性 is a gate (通过 / 存疑 / 不通过), the other five
criteria carry weights summing to 100, and each is scored in points from 0 to its weight, so
an expert's total is out of 100. Weights live in `Campaign.settings["review"]` (they survive
a reload of the plan file) and may change only until review opens.

Defaults follow the plan's order of the criteria (earlier, heavier): 25, 20, 20, 20, 15.
"""

import copy

from campaign.audit import record
from campaign.definition import options
from campaign.problems import is_whole_number, problem
from campaign.review.refusals import REVIEW_MESSAGES, Invalid, Refused
from models import Campaign, db, utcnow

DEFAULT_WEIGHTS = (25, 20, 20, 20, 15)
GATE_OPTIONS = {"pass": "通过", "doubt": "存疑", "fail": "不通过"}
DEFAULTS = {
    "k": 3,
    "gate": None,  # the first criterion of the plan
    "weights": None,  # DEFAULT_WEIGHTS over the other criteria, in order
    "comment_min": 50,  # 字 in the overall comment (专家点评)
    "disagreement": 20.0,  # points between the highest and lowest total
    "band": 3.0,  # points either side of the cut line that go to 复核
    "ranking_basis": "mean",  # mean | corrected
    "shrinkage": 1.0,  # ridge λ on each expert's leniency
}


def review_settings(campaign: Campaign) -> dict:
    chosen = (campaign.settings or {}).get("review", {})
    merged = copy.deepcopy(DEFAULTS) | {k: v for k, v in chosen.items() if k in DEFAULTS}
    criteria = options(campaign, "criterion")
    merged["gate"] = merged["gate"] or (criteria[0].code if criteria else None)
    scored = [c.code for c in criteria if c.code != merged["gate"]]
    if not merged["weights"] or set(merged["weights"]) != set(scored):
        defaults = list(DEFAULT_WEIGHTS) + [0] * max(len(scored) - len(DEFAULT_WEIGHTS), 0)
        merged["weights"] = dict(zip(scored, _to_100(defaults[: len(scored)]), strict=True))
    return merged


def _to_100(weights: list) -> list:
    """Scale defaults to total 100 when a campaign has another number of criteria."""
    total = sum(weights) or 1
    scaled = [round(w * 100 / total) for w in weights]
    if scaled:
        scaled[0] += 100 - sum(scaled)
    return scaled


def rubric(campaign: Campaign) -> dict:
    """What an expert scores: the gate and each criterion's label, description and points."""
    settings = review_settings(campaign)
    criteria = {c.code: c for c in options(campaign, "criterion")}
    gate = criteria.get(settings["gate"])
    return {
        "gate": {
            "code": settings["gate"],
            "label": gate.label if gate else "",
            "description": gate.description if gate else "",
            "options": [{"code": c, "label": label} for c, label in GATE_OPTIONS.items()],
        },
        "criteria": [
            {
                "code": code,
                "label": criteria[code].label,
                "description": criteria[code].description,
                "weight": weight,
                "max": weight,
            }
            for code, weight in settings["weights"].items()
        ],
        "comment_min": settings["comment_min"],
        "disagreement": settings["disagreement"],
        "band": settings["band"],
        "ranking_basis": settings["ranking_basis"],
        "k": settings["k"],
        "editable": not review_open(campaign),
    }


def review_open(campaign: Campaign, now=None) -> bool:
    return campaign.review_opens_at is not None and campaign.review_opens_at <= (now or utcnow())


def review_closed(campaign: Campaign, now=None) -> bool:
    closes = campaign.review_closes_at
    return closes is not None and (now or utcnow()) > closes


def configure(campaign: Campaign, data: dict, actor: str) -> dict:
    """Change weights (refused once review is open) and the board's thresholds."""
    settings = review_settings(campaign)
    problems, chosen = [], {}
    if "weights" in data:
        if review_open(campaign):
            raise Refused("review_open", "评审已开始，权重不能再修改")
        weights = data["weights"]
        if not isinstance(weights, dict) or set(weights) != set(settings["weights"]):
            problems.append(_problem("weights", "invalid_choice", codes=list(settings["weights"])))
        elif not all(_number(v) and v >= 0 for v in weights.values()):
            problems.append(_problem("weights", "invalid_type"))
        elif sum(weights.values()) != 100:
            problems.append(_problem("weights", "weights_total", total=sum(weights.values())))
        else:
            chosen["weights"] = {code: weights[code] for code in settings["weights"]}
    limits = {
        "k": (1, 10),
        "comment_min": (0, 2000),
        "disagreement": (0, 100),
        "band": (0, 100),
        "shrinkage": (0, 1000),
    }
    whole = ("k", "comment_min")
    for name, (low, high) in limits.items():
        if name in data:
            kind_ok = is_whole_number(data[name]) if name in whole else _number(data[name])
            if kind_ok and low <= data[name] <= high:
                chosen[name] = data[name]
            else:
                problems.append(_problem(name, "out_of_range", min=low, max=high))
    if "ranking_basis" in data:
        if data["ranking_basis"] in ("mean", "corrected"):
            chosen["ranking_basis"] = data["ranking_basis"]
        else:
            problems.append(_problem("ranking_basis", "invalid_choice"))
    if problems:
        raise Invalid(problems)
    stored = {**(campaign.settings or {}).get("review", {}), **chosen}
    with db.atomic():
        Campaign.update(settings={**(campaign.settings or {}), "review": stored}).where(
            Campaign.id == campaign.id
        ).execute()
        record(actor, "review.configure", campaign, None, chosen, campaign.id)
    return rubric(Campaign.get_by_id(campaign.id))


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _problem(field: str, code: str, **details) -> dict:
    return problem(field, code, REVIEW_MESSAGES, **details)
