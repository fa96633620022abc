"""Finding things: organizer and department entry lists show and filter by unit, region,
domain, route, department, status, counts, check state and duplicate group, and `q` finds
Chinese substrings of title, abstract and unit name (SQLite FTS5 trigram / pg_trgm). Units
likewise. Run on both databases (DATABASE_URL=postgresql://… for PostgreSQL)."""

import pytest

from models import Account, Department, DepartmentMember, Entry, Unit, WechatUser
from tests.factories import Organizer
from tests.factories import WechatCaller as Caller

pytest_plugins = ("tests.collection.fixtures",)


@pytest.fixture
def catalogue(client, open_window):
    """Three units in two regions, two departments, four entries."""
    campaign = open_window
    north = Department.create(
        campaign=campaign, name="南平市委组织部", route="org_dept", invite_code="NP"
    )
    coast = Department.create(
        campaign=campaign, name="厦门市委组织部", route="org_dept", invite_code="XM"
    )
    made = {}
    specs = [
        ("u1", "南平市延平区水南街道党工委", "南平市", "13800138001"),
        ("u2", "厦门市思明区鼓浪屿社区党委", "厦门市", "0592-2345678"),
        ("u3", "福州市仓山区100%_党支部", "福州市", "13900139003"),
    ]
    for key, name, region, phone in specs:
        owner = WechatUser.create(app="wxa", openid=f"o-{key}")
        made[key] = Unit.create(
            campaign=campaign,
            owner=owner,
            name=name,
            region=region,
            domain="urban",
            org_level="党委",
            contact_name=f"联系人{key}",
            contact_phone=phone,
        )
    rows = [
        (
            "e1",
            "u1",
            north,
            "rural",
            "brand",
            "submitted",
            "pass",
            None,
            "茶旅融合带富一方",
            "以党建引领武夷山茶产业发展，打造 Tea-Tour 线路",
        ),
        (
            "e2",
            "u2",
            coast,
            "urban",
            "case",
            "endorsed",
            "pass",
            "g1",
            "海上花园的近邻党建",
            "鼓浪屿家园之友理事会共商共治",
        ),
        (
            "e3",
            "u2",
            coast,
            "urban",
            "case",
            "returned",
            "review",
            "g1",
            "社区书记工作室",
            "以近邻党建激活社区治理",
        ),
        (
            "e4",
            "u3",
            None,
            "soe",
            "case",
            "draft",
            "unchecked",
            None,
            "国企党建“三融三创”",
            "100%覆盖_的党建工作法",
        ),
    ]
    for key, unit, dept, domain, track, status, check, group, title, abstract in rows:
        made[key] = Entry.create(
            campaign=campaign, unit=made[unit], owner=made[unit].owner,
            route="org_dept" if dept else "online", department=dept, domain=domain,
            track=track, status=status, content_check=check, duplicate_group=group,
            title=title, abstract=abstract,
        )  # fmt: skip
    made["north"], made["coast"] = north, coast
    made["organizer"] = Organizer(client, campaign)
    return made


def listed(organizer, **params) -> list[str]:
    response = organizer.get("/api/v1/org/entries", query_string=params)
    assert response.status_code == 200, response.get_json()
    return sorted(item["title"] for item in response.get_json()["items"])


def titles(catalogue, *keys) -> list[str]:
    return sorted(catalogue[key].title for key in keys)


def test_the_list_shows_what_an_organizer_sorts_by(catalogue):
    item = (
        catalogue["organizer"]
        .get("/api/v1/org/entries", query_string={"q": "海上花园"})
        .get_json()["items"][0]
    )
    assert item["unit"] == {
        "id": catalogue["u2"].id,
        "name": "厦门市思明区鼓浪屿社区党委",
        "region": "厦门市",
    }
    assert item["department"]["name"] == "厦门市委组织部"
    assert (item["domain"], item["route"], item["status"]) == ("urban", "org_dept", "endorsed")
    assert (item["content_check"], item["duplicate_group"], item["attachments"]) == (
        "pass",
        "g1",
        0,
    )
    assert item["counts"]["title"] == 9


@pytest.mark.parametrize(
    "params, keys",
    [
        ({"status": "endorsed"}, ("e2",)),
        ({"route": "online"}, ("e4",)),
        ({"domain": "urban"}, ("e2", "e3")),
        ({"track": "brand"}, ("e1",)),
        ({"content_check": "review"}, ("e3",)),
        ({"duplicate_group": "g1"}, ("e2", "e3")),
        ({"region": "南平市"}, ("e1",)),
        ({"region": "厦门市", "status": "returned"}, ("e3",)),
    ],
    ids=str,
)
def test_every_filter(catalogue, params, keys):
    assert listed(catalogue["organizer"], **params) == titles(catalogue, *keys)


def test_department_and_unit_filters(catalogue):
    organizer = catalogue["organizer"]
    assert listed(organizer, department=catalogue["north"].id) == titles(catalogue, "e1")
    assert listed(organizer, unit=catalogue["u2"].id) == titles(catalogue, "e2", "e3")


@pytest.mark.parametrize(
    "q, keys",
    [
        ("近邻党建", ("e2", "e3")),  # title of one, abstract of the other
        ("鼓浪屿", ("e2", "e3")),  # unit name (and an abstract)
        ("延平区水南", ("e1",)),  # unit name only
        ("茶旅", ("e1",)),  # two characters
        ("茶", ("e1",)),  # one character
        ("三融三创", ("e4",)),
        ("100%", ("e4",)),  # taken literally: in a unit name and an abstract
        ("%_", ("e4",)),
        ("_", ("e4",)),
        ("tea-TOUR", ("e1",)),  # Latin letters in any case
        ("不存在的词语", ()),
        ('"引号', ()),
    ],
    ids=str,
)
def test_search_finds_chinese_substrings(catalogue, q, keys):
    assert listed(catalogue["organizer"], q=q) == titles(catalogue, *keys)


def test_search_follows_edits_and_renamed_units(catalogue):
    organizer = catalogue["organizer"]
    Entry.update(title="数字乡村新图景").where(Entry.id == catalogue["e1"].id).execute()
    assert listed(organizer, q="数字乡村") == ["数字乡村新图景"]
    assert listed(organizer, q="茶旅融合") == []
    Unit.update(name="思明区海滨街道党工委").where(Unit.id == catalogue["u2"].id).execute()
    assert listed(organizer, q="海滨街道") == titles(catalogue, "e2", "e3")
    catalogue["e4"].delete_instance()
    assert listed(organizer, q="三融三创") == []


def test_departments_search_only_their_own(catalogue, client):
    officer = Caller(client, "o-np-officer")
    DepartmentMember.create(department=catalogue["north"], user=officer.user)
    found = officer.get("/api/v1/dept/entries", query_string={"q": "党建"}).get_json()["items"]
    assert [item["title"] for item in found] == ["茶旅融合带富一方"]
    assert found[0]["unit"]["name"] == "南平市延平区水南街道党工委"
    none = officer.get("/api/v1/dept/entries", query_string={"q": "鼓浪屿"}).get_json()
    assert none == {"items": []}
    assert officer.get("/api/v1/dept/entries", query_string={"status": "draft"}).get_json() == {
        "items": []
    }


def units_listed(organizer, **params) -> list[dict]:
    response = organizer.get("/api/v1/org/units", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_units_list_filter_and_search_with_masked_phones(catalogue):
    organizer = catalogue["organizer"]
    assert [u["name"] for u in units_listed(organizer, region="厦门市")] == [
        "厦门市思明区鼓浪屿社区党委"
    ]
    found = units_listed(organizer, q="水南街道")
    assert [(u["name"], u["contact_phone"], u["entries"]) for u in found] == [
        ("南平市延平区水南街道党工委", "138****8001", 1)
    ]
    assert units_listed(organizer, q="联系人u3")[0]["name"] == "福州市仓山区100%_党支部"
    assert units_listed(organizer, q="%") == units_listed(organizer, q="100%")
    Account.update(pii=True).where(Account.id == organizer.account.id).execute()
    assert units_listed(organizer, q="水南街道")[0]["contact_phone"] == "13800138001"


def test_ids_no_row_can_have_are_refused_plainly(catalogue):
    """An id no row can have is a 422 naming the filter (tests/hostile asks the same of every
    organizer filter), never a database overflow."""
    organizer = catalogue["organizer"]
    for params in ({"unit": 10**30}, {"department": -1}):
        response = organizer.get("/api/v1/org/entries", query_string=params)
        assert response.status_code == 422
        assert response.get_json()["error"]["fields"][0]["field"] in params
