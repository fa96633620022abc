"""The campaign is data: seeded from the plan, reloadable, and idempotent."""

import datetime

import pytest
import yaml

from campaign.definition import (
    DEFAULT_PLAN,
    DefinitionError,
    apply_definition,
    current_campaign,
    option_codes,
    options,
    read_definition,
    seed_default_campaign,
)
from models import Campaign, CampaignOption


def labels(campaign, kind):
    return [o.label for o in options(campaign, kind)]


def test_seed_has_exactly_the_plans_facts(campaign):
    assert campaign.title == "福建省新时代党建品牌、优秀案例征集"
    assert campaign.theme == "新时代，新党建，新作为"
    assert labels(campaign, "domain") == [
        "农村基层党建",
        "城市基层党建",
        "国有企业党建",
        "非公有制经济组织和社会组织党建",
        "机关党建",
        "学校党建",
        "新兴领域和新兴业态党建",
    ]
    assert labels(campaign, "theme") == [
        "坚定不移推动高质量发展",
        "加快推进乡村振兴",
        "着力提高人民生活品质",
        "在党史学习教育中做到学史明理",
    ]
    assert labels(campaign, "route") == ["网络征集", "组织部门推荐", "行业部门推荐", "党校系统推荐"]
    assert labels(campaign, "criterion") == [
        "政治性",
        "操作性",
        "实效性",
        "创新性",
        "推广性",
        "完整性",
    ]
    assert all(o.description for o in options(campaign, "criterion"))
    assert labels(campaign, "stage") == ["案例征集", "专家点评", "名单展示", "线下交流"]
    assert labels(campaign, "element") == ["背景", "做法", "成效", "意义"]
    assert campaign.limits["abstract"] == {"min": 200, "max": 300}
    assert campaign.limits["body"] == {"min": 3000, "max": 5000}
    assert campaign.quotas == {"brand": 10, "case": 100}
    assert campaign.contact["postcode"] == "350003"
    assert campaign.contact["person"] == "孟建清"


def test_window_is_local_days_stored_as_utc(campaign):
    # 2021-04-01 00:00 and 2021-10-31 23:59:59 in Asia/Shanghai (UTC+8).
    assert campaign.opens_at == datetime.datetime(2021, 3, 31, 16, 0, 0)
    assert campaign.closes_at == datetime.datetime(2021, 10, 31, 15, 59, 59)


def snapshot():
    rows = [
        (o.campaign_id, o.kind, o.code, o.label, o.description, o.position, o.weight)
        for o in CampaignOption.select().order_by(CampaignOption.id)
    ]
    campaigns = [c.__data__ for c in Campaign.select().order_by(Campaign.id)]
    return rows, campaigns


def test_seeding_twice_changes_nothing(campaign):
    before = snapshot()
    again, created = seed_default_campaign()
    assert not created
    assert again.id == campaign.id
    assert snapshot() == before


def test_next_years_campaign_needs_no_code(campaign, tmp_path):
    data = read_definition(DEFAULT_PLAN)
    data.update(slug="fujian-2022", title="2022年征集", opens="2022-03-01", closes="2022-09-30")
    data["domains"] = data["domains"][:3] + [{"code": "health", "label": "卫生健康党建"}]
    data["quotas"] = {"brand": 5, "case": 50}
    path = tmp_path / "fujian-2022.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    new, created = apply_definition(read_definition(path), make_current=True)
    assert created
    assert current_campaign().id == new.id
    assert labels(new, "domain")[-1] == "卫生健康党建"
    assert len(labels(new, "domain")) == 4
    assert new.quotas == {"brand": 5, "case": 50}
    # The 2021 campaign is untouched and no longer current.
    assert len(labels(campaign, "domain")) == 7
    assert not Campaign.get_by_id(campaign.id).is_current


def test_reloading_an_edited_file_updates_in_place(campaign):
    assert len(options(campaign, "route")) == 4  # read, and kept by this process
    data = read_definition(DEFAULT_PLAN)
    data["routes"] = data["routes"][:2]
    data["criteria"][0]["weight"] = 2.0
    updated, created = apply_definition(data)
    assert not created
    assert [o.code for o in options(updated, "route")] == ["online", "org_dept"]
    assert options(updated, "criterion")[0].weight == 2.0


@pytest.mark.parametrize(
    "change, message",
    [
        ({"slug": None}, "slug"),
        ({"domains": []}, "'domains'"),
        ({"stage": "voting"}, "'stage'"),
        (
            {"limits": {"abstract": {"min": 300, "max": 200}, "body": {"min": 1, "max": 2}}},
            "abstract",
        ),
    ],
)
def test_broken_definitions_are_refused(change, message):
    data = read_definition(DEFAULT_PLAN)
    for key, value in change.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    with pytest.raises(DefinitionError, match=message):
        apply_definition(data)


def test_duplicate_codes_are_refused():
    data = read_definition(DEFAULT_PLAN)
    data["themes"].append(dict(data["themes"][0]))
    with pytest.raises(DefinitionError, match="unique"):
        apply_definition(data)


def test_reloading_keeps_settings_organizers_changed(campaign):
    Campaign.update(settings={"reminders": {"enabled": False}}).execute()
    reloaded, _ = seed_default_campaign()
    assert reloaded.settings == {"reminders": {"enabled": False}}


def test_a_process_reads_a_campaigns_options_once_per_stamp(campaign, monkeypatch):
    """Validation reads options on every save; the database is asked again only when the
    campaign row carries a new stamp, which every change of its options gives it."""
    from campaign import definition

    asked = []
    rows = definition._OPTIONS.rows
    monkeypatch.setattr(definition._OPTIONS, "rows", lambda *key: asked.append(key) or rows(*key))
    first = Campaign.get_by_id(campaign.id)
    assert first.options_stamp
    for _ in range(3):
        assert "rural" in option_codes(first, "domain")["domain"]
    assert asked == [(campaign.id, "domain")]

    data = read_definition(DEFAULT_PLAN)
    data["domains"] = [d for d in data["domains"] if d["code"] != "rural"]
    reloaded, _ = apply_definition(data)
    assert reloaded.options_stamp != first.options_stamp
    assert "rural" not in option_codes(reloaded, "domain")["domain"]
    assert len(asked) == 2

    unchanged, _ = apply_definition(data)  # the same file again changes nothing
    assert unchanged.options_stamp == reloaded.options_stamp
