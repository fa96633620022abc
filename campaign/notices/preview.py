"""Who a notice would reach, before it exists: shared by the API and the console composer."""

from campaign.notices import audiences, reach
from campaign.notices import templates as template_rules
from campaign.notices.problems import notice_problem
from models import Campaign

SAMPLE_SIZE = 10


def preview(campaign: Campaign, data: dict) -> tuple[dict | None, list[dict]]:
    """`({count, sample, reachable}, [])`, or `(None, problems)`; nothing is created."""
    audience, problems = audiences.check_audience(campaign, data.get("audience"))
    templates = []
    for name in ("template", "fallback_template"):
        template = template_rules.campaign_template(campaign, data.get(name))
        if template is None and data.get(name) is not None:
            problems.append(notice_problem(name, "not_found"))
        templates.append(template)
    if problems:
        return None, problems
    user_ids = audiences.recipients(campaign, audience)
    return {
        "count": len(user_ids),
        "sample": audiences.describe(campaign, user_ids[:SAMPLE_SIZE]),
        "reachable": reach.count_reachable(user_ids, *templates),
    }, []
