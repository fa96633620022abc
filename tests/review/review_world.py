"""A seeded review world for the review tests: departments, units with WeChat owners, entries
ready for review, experts with WeChat bindings, and message templates on both sides (our
database and the WeChat sandbox), every recipient with a grant."""

import random

from campaign.review import experts as expert_rules
from campaign.sessions import issue_token
from models import (
    Department,
    Entry,
    MessageTemplate,
    SubscriptionGrant,
    Unit,
    WechatUser,
    db,
)

KEYS = {"thing1": "thing", "thing2": "thing"}
FIELDS = {
    "thing1": {"label": "活动名称", "source": "campaign_title"},
    "thing2": {"label": "说明", "value": "请登录查看"},
}
TEMPLATES = {"review": "tpl-review", "result": "tpl-result"}
DOMAINS = ("rural", "urban", "soe", "schools")
REGIONS = ("福州市", "厦门市", "泉州市")
PASSWORD = "expert-password-1"


def add_templates(campaign, sandbox, settings) -> None:
    for purpose, template_id in TEMPLATES.items():
        sandbox.state.add_template(settings.wxa.appid, template_id, keys=KEYS)
        MessageTemplate.create(
            campaign=campaign,
            purpose=purpose,
            channel="wxa_subscribe",
            template_id=template_id,
            title=purpose,
            fields=FIELDS,
            page="pages/index/index",
        )


def wechat_person(sandbox, settings, openid: str, grants: int = 5) -> WechatUser:
    """A mini-program user known to the sandbox, who accepted both templates `grants` times."""
    user = WechatUser.create(app="wxa", openid=openid)
    sandbox.state.add_user(settings.wxa.appid, openid)
    for template_id in TEMPLATES.values():
        SubscriptionGrant.create(user=user, template_id=template_id, remaining=grants)
        for _ in range(grants):
            sandbox.state.answer_popup(settings.wxa.appid, openid, {template_id: "accept"})
    return user


def seed(campaign, sandbox, settings, entries: int = 40, experts: int = 8, seed_value: int = 1):
    """Two departments (the second under the first), `entries` entries ready for review over
    four domains (half online, half through a department, endorsed), `experts` experts each
    judging two domains (one works in department 1, one in the unit of entry 1)."""
    rng = random.Random(seed_value)
    add_templates(campaign, sandbox, settings)
    parent = Department.create(
        campaign=campaign, name="省直机关工委", route="org_dept", invite_code="D1", region="福州市"
    )
    child = Department.create(
        campaign=campaign,
        name="某市委组织部",
        route="org_dept",
        invite_code="D2",
        region="厦门市",
        parent=parent,
    )
    rows = []
    with db.atomic():
        for n in range(entries):
            owner = wechat_person(sandbox, settings, f"o-unit-{n:03d}")
            region = REGIONS[n % len(REGIONS)]
            unit = Unit.create(
                campaign=campaign, owner=owner, name=f"中共某某村{n}支部", region=region
            )
            department = (None, parent, child)[n % 3]
            rows.append(
                Entry.create(
                    campaign=campaign,
                    unit=unit,
                    owner=owner,
                    track="brand" if n % 4 == 0 else "case",
                    domain=DOMAINS[n % len(DOMAINS)],
                    title=f"案例{n}",
                    abstract="摘要",
                    route="online" if department is None else "org_dept",
                    department=department,
                    status="submitted" if department is None else "endorsed",
                    content_check="pass",
                )
            )
    people = []
    for j in range(experts):
        data = {
            "username": f"expert{j}",
            "password": PASSWORD,
            "display_name": f"专家{j}",
            "domains": [DOMAINS[j % 4], DOMAINS[(j + 1) % 4]],
            "region": REGIONS[j % 3],
            "cap": 30,
        }
        if j == 0:
            data["department"] = parent.id
        if j == 1:
            data["unit"] = rows[0].unit_id
        profile, _ = expert_rules.invite(campaign, data, "test")
        user = wechat_person(sandbox, settings, f"o-expert-{j}")
        account = profile.account
        account.wechat_user = user
        account.save()
        token, _ = issue_token(account)
        people.append({"account": account, "token": token, "openid": user.openid})
    rng.shuffle(rows)
    return {"departments": (parent, child), "entries": rows, "experts": people}


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def full_review(weights: dict, base: float, comment_words: int = 60, gate: str = "pass") -> dict:
    """A complete review whose total is about `base` percent of each criterion's points."""
    return {
        "gate": gate,
        "gate_remark": "" if gate == "pass" else "表述需要核实",
        "scores": {code: round(weight * base / 100, 1) for code, weight in weights.items()},
        "comment": "该案例" + "做法扎实成效明显" * (comment_words // 8 + 1),
    }
