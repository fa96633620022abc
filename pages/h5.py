"""`/h5/`: what the campaign is and how to take part, for anyone who scans outside the app."""

from flask import Blueprint, render_template, request

from campaign.channels.codes import CODE_PATTERN
from campaign.clock import to_local
from campaign.definition import current_campaign, options

bp = Blueprint("h5", __name__, url_prefix="/h5", template_folder="templates")


@bp.get("/")
def landing():
    campaign = current_campaign()
    if campaign is None:
        return render_template(
            "h5/message.html", title="征集活动", message="当前没有进行中的征集活动。"
        ), 404
    code = request.args.get("c", "")
    return render_template(
        "h5/landing.html",
        campaign=campaign,
        code=code if CODE_PATTERN.match(code) else None,
        notice=None,
        opens=f"{to_local(campaign.opens_at, campaign.timezone):%Y年%-m月%-d日}",
        closes=f"{to_local(campaign.closes_at, campaign.timezone):%Y年%-m月%-d日}",
        limits=campaign.limits,
        domains=options(campaign, "domain"),
        criteria=options(campaign, "criterion"),
        contact=campaign.contact,
    )
