"""The people and things most tests need, made one way: an organizer, a unit's WeChat login,
a complete entry's fields, a registered unit.

Each caller talks to the API through Flask's test client with its own bearer token, exactly
as the mini-program or the console would; nothing here reaches around the API except to
create the WeChat identity a real login would have created.
"""

from campaign.accounts import create_account
from campaign.sessions import issue_token
from models import Attachment, Entry, Unit, WechatUser

PASSWORD = "correct horse battery"

UNIT = {
    "name": "福州市鼓楼区某社区党委",
    "region": "福州市",
    "domain": "urban",
    "org_level": "党委",
    "contact_name": "王芳",
    "contact_phone": "13800138000",
}


def zi(n: int, char: str = "党") -> str:
    """`n` 字 of text."""
    return char * n


COMPLETE = {
    "track": "case",
    "domain": "urban",
    "themes": ["development"],
    "title": "近邻党建激活社区治理",
    "abstract": zi(250),
    "background": zi(800),
    "approach": zi(900),
    "results": zi(800),
    "significance": zi(700),
}


class ApiCaller:
    """Someone holding a bearer token; `get`, `post`, … go through Flask's client with it."""

    def __init__(self, client, token: str):
        self.client = client
        self.token = token

    def __getattr__(self, method):
        def call(path, **kwargs):
            headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
            response = getattr(self.client, method)(path, headers=headers, **kwargs)
            response.get_data()  # read streamed files whole, then close them
            response.close()
            return response

        return call


class Organizer(ApiCaller):
    """A signed-in console account (an organizer unless `role` says otherwise)."""

    def __init__(self, client, campaign, username: str = "organizer1", role: str = "organizer"):
        self.account = create_account(username, PASSWORD, role, "组织者", campaign)
        super().__init__(client, issue_token(self.account)[0])

    def department(self, name: str, route: str = "org_dept", **fields) -> dict:
        """Create a department through the API; its detail (with its first channel)."""
        response = self.post(
            "/api/v1/org/departments", json={"name": name, "route": route, **fields}
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()


class WechatCaller(ApiCaller):
    """A unit's contact after a mini-program (or official-account) login."""

    def __init__(self, client, openid: str, app: str = "wxa"):
        self.user = WechatUser.create(app=app, openid=openid)
        super().__init__(client, issue_token(self.user)[0])


def registered_unit(client, openid: str = "o-unit", profile: dict = UNIT) -> WechatCaller:
    """A WeChat caller whose unit is registered through `PUT /api/v1/me/unit`."""
    caller = WechatCaller(client, openid)
    response = caller.put("/api/v1/me/unit", json=profile)
    assert response.status_code == 201, response.get_json()
    return caller


def entry_row(campaign, openid: str, **fields) -> Entry:
    """An entry written straight to the database, for tests about what happens after."""
    user = WechatUser.create(app="wxa", openid=openid)
    unit = Unit.create(campaign=campaign, owner=user, name=f"单位{openid}")
    return Entry.create(campaign=campaign, unit=unit, owner=user, route="online", **fields)


def other_campaign(campaign, slug: str = "other-2022"):
    """A second, not-current campaign copied from `campaign`: for rules that must stay inside
    their own campaign (merging units, parents, reassigning, templates)."""
    from models import Campaign

    fields = {f.name: getattr(campaign, f.name) for f in Campaign._meta.sorted_fields}
    return Campaign.create(**{**fields, "id": None, "slug": slug, "is_current": False})


def new_entry(caller, **fields) -> dict:
    """A draft created through `POST /api/v1/entries`."""
    response = caller.post("/api/v1/entries", json=fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def add_evidence(entry_id: int) -> None:
    """One photo row, so the evidence rule of submit is met without an upload."""
    Attachment.create(entry=entry_id, kind="photo", storage_key="x", mime="image/jpeg", size=1)


def codes(response) -> set:
    """The (field, code) pairs of a 422's problems."""
    return {(f["field"], f["code"]) for f in response.get_json()["error"]["fields"]}


def h5_signed_in(client, user: WechatUser):
    """`client` holding an H5 cookie session for `user`, made exactly as the OAuth callback
    makes it (`pages.h5.common.sign_in`); returns the CSRF token of its pages."""
    import re

    from flask import g, make_response

    from pages.h5.common import COOKIE_PATH, sign_in

    with client.application.test_request_context("/wechat/oauth/callback"):
        sign_in(make_response(""), user)
        token = g.web_token
    client.set_cookie("h5_session", token, path=COOKIE_PATH)
    page = client.get("/h5/home").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([0-9a-f]{64})"', page).group(1)
