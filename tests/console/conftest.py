"""Console test helpers: a browser-like Flask client that signs in through the login form
and reads the CSRF token from the page, as a person's browser would."""

import re

import pytest

from campaign.accounts import create_account

PASSWORD = "console-password"
TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"|"X-CSRF-Token": "([0-9a-f]{64})"')


def csrf_of(html: str) -> str:
    match = TOKEN.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


class Browser:
    """A Flask test client with cookies, that keeps the last page's CSRF token."""

    def __init__(self, client):
        self.client = client
        self.csrf = None

    def get(self, path, **kwargs):
        response = self.client.get(path, **kwargs)
        response.get_data()  # read streamed files whole, then close them
        response.close()
        if response.mimetype == "text/html":
            text = response.get_data(as_text=True)
            if TOKEN.search(text):
                self.csrf = csrf_of(text)
        return response

    def post(self, path, data=None, htmx=False, csrf=True, **kwargs):
        data = dict(data or {})
        headers = dict(kwargs.pop("headers", {}))
        if htmx:
            headers["HX-Request"] = "true"
            if csrf:
                headers["X-CSRF-Token"] = self.csrf
        elif csrf:
            data.setdefault("csrf_token", self.csrf)
        response = self.client.post(path, data=data, headers=headers, **kwargs)
        if response.mimetype == "text/html" and TOKEN.search(response.get_data(as_text=True)):
            self.csrf = csrf_of(response.get_data(as_text=True))
        return response

    def sign_in(self, username: str, password: str = PASSWORD):
        self.get("/console/login")
        response = self.post("/console/login", {"username": username, "password": password})
        if response.status_code == 303:
            self.get(response.location)
        return response


@pytest.fixture
def browser(app):
    return Browser(app.test_client())


@pytest.fixture
def make_account(open_window):
    def make(username: str, role: str = "organizer"):
        campaign = None if role == "admin" else open_window
        return create_account(username, PASSWORD, role, f"{username}姓名", campaign)

    return make


@pytest.fixture
def organizer_browser(browser, make_account):
    make_account("org1", "organizer")
    assert browser.sign_in("org1").status_code == 303
    return browser


@pytest.fixture
def world(open_window):
    """Two departments with a member each, three units and four entries (Chinese titles),
    one with a photo as evidence."""
    import io

    from PIL import Image

    from models import Attachment, Department, DepartmentMember, Entry, Unit, WechatUser
    from storage import get_storage

    campaign = open_window
    dept_d = Department.create(
        campaign=campaign, name="福州市委组织部", route="org_dept", invite_code="INV-D"
    )
    dept_e = Department.create(
        campaign=campaign, name="厦门市委组织部", route="org_dept", invite_code="INV-E"
    )
    member_d = WechatUser.create(app="mp", openid="o-member-d", nickname="福州联络员")
    member_e = WechatUser.create(app="mp", openid="o-member-e", nickname="厦门联络员")
    DepartmentMember.create(department=dept_d, user=member_d)
    DepartmentMember.create(department=dept_e, user=member_e)
    entries = {}
    specs = (
        ("red", "红色引擎赋能乡村振兴", "submitted", dept_d),
        ("community", "党建引领社区治理", "submitted", dept_d),
        ("digital", "数字党建平台建设", "submitted", dept_e),
        ("draft", "红色草稿", "draft", None),
    )
    for n, (key, title, status, department) in enumerate(specs):
        owner = WechatUser.create(app="wxa", openid=f"o-unit-{n}")
        unit = Unit.create(campaign=campaign, owner=owner, name=f"第{n + 1}党支部", region="福州市")
        entries[key] = Entry.create(
            campaign=campaign,
            unit=unit,
            owner=owner,
            title=title,
            abstract=f"{title}的摘要",
            route="org_dept",
            department=department,
            status=status,
            content_check="pass" if status != "draft" else "unchecked",
        )
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, "PNG")
    stored = get_storage().save(io.BytesIO(out.getvalue()), "png")
    photo = Attachment.create(
        entry=entries["red"],
        kind="photo",
        original_name="活动现场.png",
        storage_key=stored.key,
        mime="image/png",
        size=stored.size,
    )
    return {
        "campaign": campaign,
        "dept_d": dept_d,
        "dept_e": dept_e,
        "member_d": member_d,
        "member_e": member_e,
        "entries": entries,
        "photo": photo,
    }


@pytest.fixture
def page(chromium, live_server):
    """A fresh browser context (no cookies) at 1366×768, recording its traffic."""
    from tests.console.browser import VIEWPORT, Traffic

    context = chromium.new_context(
        viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai", base_url=live_server
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.traffic = Traffic(tab, live_server)
    yield tab
    context.close()


@pytest.fixture
def expert_world(world):
    return put_in_review(world)


def put_in_review(world) -> dict:
    """The small world in review: its three submitted entries under review in one domain,
    red endorsed by 福州市委组织部 first (what experts must never see). Expert A has red
    and community, expert B has digital, expert C is free to take a recused entry."""
    import datetime

    from campaign.review import experts
    from models import Assignment, Campaign, Entry, StatusChange, utcnow

    campaign = world["campaign"]
    entries = world["entries"]
    now = utcnow()
    Campaign.update(
        review_opens_at=now - datetime.timedelta(days=1),
        review_closes_at=now + datetime.timedelta(days=7),
    ).where(Campaign.id == campaign.id).execute()
    for key in ("red", "community", "digital"):
        Entry.update(status="under_review", domain="rural").where(
            Entry.id == entries[key].id
        ).execute()
    StatusChange.create(
        entry=entries["red"],
        from_status="submitted",
        to_status="endorsed",
        actor="user:1",
        note="福州市委组织部同意推荐",
    )
    people = {}
    for name in ("a", "b", "c"):
        profile, _ = experts.invite(
            campaign,
            {
                "username": f"expert-{name}",
                "password": PASSWORD,
                "display_name": f"专家{name.upper()}",
                "domains": ["rural"],
            },
            "test",
        )
        people[name] = profile.account
    for key, name in (("red", "a"), ("community", "a"), ("digital", "b")):
        Assignment.create(entry=entries[key], expert=people[name], assigned_by="test", pinned=True)
    return {**world, "campaign": Campaign.get_by_id(campaign.id), "experts": people}
