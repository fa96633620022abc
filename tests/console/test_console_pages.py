"""Organizer pages through Flask's client: entries with a Chinese filter, one entry with
its evidence, and a notice composed, previewed, sent and settled."""

import pytest

from models import Notice
from tests.notice_helpers import add_recipients, add_templates

pytest_plugins = ("tests.notice_fixtures",)  # fast_outbox


def test_entries_filter_by_a_chinese_word(organizer_browser, world):
    page = organizer_browser.get("/console/entries?q=红色").get_data(as_text=True)
    assert "红色引擎赋能乡村振兴" in page and "红色草稿" in page
    assert "党建引领社区治理" not in page
    fragment = organizer_browser.get("/console/entries?q=社区", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert "党建引领社区治理" in text and "<html" not in text  # only the results block
    by_status = organizer_browser.get("/console/entries?status=draft").get_data(as_text=True)
    assert "红色草稿" in by_status and "数字党建平台建设" not in by_status


def test_entry_detail_shows_evidence_served_inline(organizer_browser, world):
    entry, photo = world["entries"]["red"], world["photo"]
    page = organizer_browser.get(f"/console/entries/{entry.id}").get_data(as_text=True)
    src = f"/console/entries/{entry.id}/attachments/{photo.id}"
    assert src in page and "活动现场.png" in page
    image = organizer_browser.get(src)
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert "attachment" not in image.headers.get("Content-Disposition", "")
    image.close()
    other = world["entries"]["community"]
    assert (
        organizer_browser.get(f"/console/entries/{other.id}/attachments/{photo.id}").status_code
        == 404
    )


def test_entries_paginate(organizer_browser, world):
    page = organizer_browser.get("/console/entries?page=99").get_data(as_text=True)
    assert "共 4 条，第 1/1 页" in page


def test_compose_preview_send_and_settle_a_notice(
    organizer_browser, world, wechat, settings, run_jobs, fast_outbox
):
    campaign = world["campaign"]
    wxa, _ = add_templates(campaign, wechat, settings)
    add_recipients(campaign, wechat, settings, 3)
    add_recipients(campaign, wechat, settings, 1, grant=False, prefix="o-no-grant")
    composer = organizer_browser.get("/console/notices/new").get_data(as_text=True)
    assert "征集截止提醒" in composer
    fields = organizer_browser.get(
        f"/console/notices/fields?template={wxa.id}", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert 'name="value.thing3"' in fields
    form = {
        "title": "截止提醒",
        "template": str(wxa.id),
        "value.thing3": "请尽快提交案例",
        "group": "units",
        "status": "no_entry",
    }
    preview = organizer_browser.post("/console/notices/preview", form, htmx=True)
    assert preview.status_code == 200
    text = preview.get_data(as_text=True)
    assert '<strong class="preview-count">4</strong>' in text
    assert '<span class="preview-template">3</span>' in text
    assert '<span class="preview-unreachable">1</span>' in text
    created = organizer_browser.post("/console/notices", form, htmx=True)
    assert created.status_code == 204
    notice = Notice.get()
    assert created.headers["HX-Redirect"] == f"/console/notices/{notice.id}"
    sent = organizer_browser.post(f"/console/notices/{notice.id}/send", {"when": "now"}, htmx=True)
    assert sent.status_code == 204
    run_jobs()
    page = organizer_browser.get(f"/console/notices/{notice.id}").get_data(as_text=True)
    assert '<strong class="notice-state">已完成</strong>' in page
    assert Notice.get_by_id(notice.id).state == "done"
    assert len(wechat.state.sends()) == 3
    assert "<td>未授权</td><td>未授权订阅消息</td>" in page  # the final report by reason


def test_composer_problems_come_back_as_json_with_chinese_messages(organizer_browser, world):
    response = organizer_browser.post("/console/notices", {"title": ""}, htmx=True)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert {f["field"] for f in error["fields"]} >= {"title", "template"}
    # the top-level message says what is wrong: how many problems, and the first of them
    count, first = len(error["fields"]), error["fields"][0]["message"]
    assert error["message"] == f"有 {count} 处需要修改：{first}等"


@pytest.mark.parametrize(
    "path",
    ["/console/", "/console/units", "/console/departments", "/console/notices", "/console/audit"],
)
def test_organizer_pages_render(organizer_browser, world, path):
    response = organizer_browser.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]


def test_a_notice_can_be_scheduled_at_a_beijing_time(organizer_browser, world, wechat, settings):
    import datetime

    from campaign.clock import to_local
    from models import utcnow

    wxa, _ = add_templates(world["campaign"], wechat, settings)
    form = {
        "title": "定时提醒",
        "template": str(wxa.id),
        "value.thing3": "请提交",
        "group": "units",
    }
    organizer_browser.post("/console/notices", form, htmx=True)
    notice = Notice.get()
    at = to_local(utcnow() + datetime.timedelta(days=2), "Asia/Shanghai").replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    response = organizer_browser.post(
        f"/console/notices/{notice.id}/send",
        {"when": "at", "at": at.strftime("%Y-%m-%dT%H:%M")},
        htmx=True,
    )
    assert response.status_code == 204
    notice = Notice.get_by_id(notice.id)
    assert notice.state == "scheduled"
    assert to_local(notice.send_at, "Asia/Shanghai").hour == 9
    page = organizer_browser.get(f"/console/notices/{notice.id}").get_data(as_text=True)
    assert "已定时" in page and at.strftime("%Y-%m-%d 09:00") in page
    past = organizer_browser.post(
        f"/console/notices/{notice.id}/send", {"when": "at", "at": "2020-01-01T09:00"}, htmx=True
    )
    assert past.status_code in (409, 422)


def test_signed_in_people_skip_the_login_page(organizer_browser):
    response = organizer_browser.client.get("/console/login")
    assert response.status_code == 302 and response.location == "/console/"


def test_a_history_restore_gets_the_whole_page(organizer_browser, world):
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    page = organizer_browser.get("/console/entries?q=红色", headers=headers).get_data(as_text=True)
    assert "<html" in page and "红色引擎赋能乡村振兴" in page


def test_settings_show_the_campaign_and_change_reminders(organizer_browser, world):
    from campaign.notices.reminders import reminder_settings
    from models import Campaign

    page = organizer_browser.get("/console/settings").get_data(as_text=True)
    assert "征集截止提醒" in page and 'value="30,7,1"' in page
    form = {
        "deadline.enabled": "on",
        "deadline.at": "10:30",
        "deadline.days_before": "14，3",
        "endorsement.at": "09:00",
        "endorsement.every_days": "5",
        "review.enabled": "on",
        "review.at": "09:00",
        "review.every_days": "2",
        "mailin.enabled": "on",
        "mailin.at": "09:00",
        "mailin.every_days": "7",
    }
    saved = organizer_browser.post("/console/settings/reminders", form, htmx=True)
    assert saved.status_code == 200 and "已保存" in saved.get_data(as_text=True)
    settings = reminder_settings(Campaign.get_by_id(world["campaign"].id))
    assert settings["deadline"]["days_before"] == [14, 3] and settings["deadline"]["at"] == "10:30"
    assert (
        settings["endorsement"]["enabled"] is False and settings["endorsement"]["every_days"] == 5
    )
    bad = organizer_browser.post(
        "/console/settings/reminders",
        {**form, "deadline.at": "25:99", "mailin.every_days": "x"},
        htmx=True,
    )
    assert bad.status_code == 422
    fields = {f["field"] for f in bad.get_json()["error"]["fields"]}
    assert fields == {"deadline.at", "mailin.every_days"}


def test_entries_of_one_unit_and_likely_duplicates(organizer_browser, world):
    red, community = world["entries"]["red"], world["entries"]["community"]
    units = organizer_browser.get("/console/units").get_data(as_text=True)
    assert f"/console/entries?unit={red.unit_id}" in units
    page = organizer_browser.get(f"/console/entries?unit={red.unit_id}").get_data(as_text=True)
    assert "红色引擎赋能乡村振兴" in page and "党建引领社区治理" not in page
    from models import Entry

    Entry.update(duplicate_group="g1").where(Entry.id == community.id).execute()
    page = organizer_browser.get("/console/entries?duplicates=1").get_data(as_text=True)
    assert "党建引领社区治理" in page and "红色引擎赋能乡村振兴" not in page


def test_entry_revisions_show_what_each_save_changed(organizer_browser, world):
    from models import EntryRevision

    red = world["entries"]["red"]
    EntryRevision.create(entry=red, data={"title": "红色引擎", "results": "成效一般"})
    EntryRevision.create(entry=red, data={"title": "红色引擎", "results": "成效显著"})
    page = organizer_browser.get(f"/console/entries/{red.id}").get_data(as_text=True)
    assert "首次保存" in page and "修改了「成效」" in page
    assert "<del>一般</del><ins>显著</ins>" in page
