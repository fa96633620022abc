"""Publication, award and list-change notices: through the outbox, once each, with consent."""

from campaign.entries import status
from campaign.publication import messages
from models import Campaign, Delivery, MessageTemplate, Notice, Publication, SubscriptionGrant

PAST = {"starts_on": "2021-09-30"}
pytest_plugins = ("tests.notice_fixtures",)  # fast_outbox


def publish(organizer, **fields):
    response = organizer.post("/api/v1/org/publications", json={"kind": "final", **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def template(campaign):
    return MessageTemplate.create(
        campaign=campaign,
        purpose="publication",
        channel="wxa_subscribe",
        template_id="tpl-publication",
        title="评选结果通知",
        fields={"thing1": {"value": "名单公示"}},
    )


def test_each_step_notifies_the_units_concerned_once(seed, organizer, open_window):
    template(open_window)
    first, second = seed.entry(), seed.entry()
    runner_up = seed.entry(to=status.SHORTLISTED)
    v1 = publish(organizer, **PAST)
    published = Notice.get(Notice.auto_key == f"publication:{v1['id']}:published")
    assert published.audience == {"group": "users", "users": [first.owner_id, second.owner_id]}
    assert published.state == "scheduled" and "入选名单公示通知" in published.title
    assert messages.notify(Publication.get_by_id(v1["id"]), "published", [first.id]) is None
    assert Notice.select().count() == 1  # once each, however often it is asked for
    v2 = organizer.post(
        f"/api/v1/org/publications/{v1['id']}/republish",
        json={"reason": "递补", "add": [{"entry": runner_up.id, "award": "case"}], **PAST},
    ).get_json()
    changed = Notice.get(Notice.auto_key == f"publication:{v2['id']}:changed")
    assert changed.audience["users"] == [runner_up.owner_id]
    organizer.post(f"/api/v1/org/publications/{v2['id']}/finalize")
    awarded = Notice.get(Notice.auto_key == f"publication:{v2['id']}:awarded")
    owners = [first.owner_id, second.owner_id, runner_up.owner_id]
    assert sorted(awarded.audience["users"]) == sorted(owners)


def test_only_people_who_granted_the_template_get_it(
    seed, organizer, open_window, wechat, settings, run_jobs, fast_outbox
):
    from tasks.notices import sweep_outbox
    from tests.notice_helpers import WXA_TEMPLATE, add_templates, sends_by_openid

    add_templates(open_window, wechat, settings, purpose="publication")
    chosen = {"publication_notices": {"published": {"thing3": "请查看入选名单"}}}
    Campaign.update(settings=chosen).where(Campaign.id == open_window.id).execute()
    granted, refused = seed.entry(), seed.entry()
    for entry in (granted, refused):
        wechat.state.add_user(settings.wxa.appid, entry.owner.openid)
    SubscriptionGrant.create(user=granted.owner, template_id=WXA_TEMPLATE, remaining=1)
    wechat.state.answer_popup(settings.wxa.appid, granted.owner.openid, {WXA_TEMPLATE: "accept"})
    publish(organizer, **PAST)
    sweep_outbox()  # the periodic job starts due notices
    run_jobs()
    assert sends_by_openid(wechat) == {granted.owner.openid: 1}
    states = {d.user_id: d.state for d in Delivery.select()}
    assert states[granted.owner_id] == "sent" and states[refused.owner_id] != "sent"


def test_without_a_template_nothing_is_sent_and_publishing_still_works(seed, organizer):
    seed.entry()
    publish(organizer, **PAST)
    assert Notice.select().count() == 0
