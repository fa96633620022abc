"""Every role × every object endpoint, against a declared policy (DESIGN §3, T4).

A unit never sees another unit's entry, a department never sees another department's
entries, WeChat users never reach organizer endpoints, console accounts never act as
WeChat users. "Not yours" is answered exactly like "does not exist".
"""

import io

import pytest
from PIL import Image

from campaign.accounts import create_account
from campaign.sessions import issue_token
from models import (
    Attachment,
    Department,
    DepartmentMember,
    Entry,
    Unit,
    WechatUser,
)

OK, NOT_FOUND, UNAUTHORIZED, FORBIDDEN = "ok", 404, 401, 403


@pytest.fixture
def world(client, open_window, tmp_path):
    """Unit A (owner of the entry under test) and B, departments D (the entry's) and E."""
    dept_d = Department.create(campaign=open_window, name="D", route="org_dept", invite_code="D")
    dept_e = Department.create(campaign=open_window, name="E", route="org_dept", invite_code="E")
    tokens = {"anonymous": None}
    users = {}
    for role in ("unit_a", "unit_b", "dept_d", "dept_e"):
        users[role] = WechatUser.create(app="wxa", openid=f"o-{role}")
        tokens[role], _ = issue_token(users[role])
    DepartmentMember.create(department=dept_d, user=users["dept_d"])
    DepartmentMember.create(department=dept_e, user=users["dept_e"])
    unit_a = Unit.create(campaign=open_window, owner=users["unit_a"], name="A")
    Unit.create(campaign=open_window, owner=users["unit_b"], name="B")
    entry = Entry.create(
        campaign=open_window,
        unit=unit_a,
        owner=users["unit_a"],
        route="org_dept",
        department=dept_d,
        status="submitted",
        content_check="pass",
    )
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    from storage import get_storage

    stored = get_storage().save(io.BytesIO(out.getvalue()), "png")
    attachment = Attachment.create(
        entry=entry, kind="photo", storage_key=stored.key, mime="image/png", size=stored.size
    )
    for role, name in (("organizer", "org"), ("expert", "exp")):
        account = create_account(name, "matrix-password", role, name, open_window)
        tokens[role], _ = issue_token(account)
    return {
        "tokens": tokens,
        "entry": entry,
        "attachment": attachment,
        "department": dept_d,
        "member": users["dept_d"],
    }


# (method, path template, body) → {role: expected}; roles not listed expect NOT_FOUND.
E, A = "{entry}", "{attachment}"
WECHAT_ONLY = {"anonymous": UNAUTHORIZED, "organizer": UNAUTHORIZED, "expert": UNAUTHORIZED}
OWNER = {**WECHAT_ONLY, "unit_a": OK}
DEPARTMENT = {
    **WECHAT_ONLY,
    "unit_a": FORBIDDEN,
    "unit_b": FORBIDDEN,
    "dept_d": OK,
    "dept_e": NOT_FOUND,
}
ORGANIZER = {
    "anonymous": UNAUTHORIZED,
    "unit_a": UNAUTHORIZED,
    "unit_b": UNAUTHORIZED,
    "dept_d": UNAUTHORIZED,
    "dept_e": UNAUTHORIZED,
    "expert": FORBIDDEN,
    "organizer": OK,
}
POLICY = [
    ("get", f"/api/v1/entries/{E}", None, OWNER),
    ("patch", f"/api/v1/entries/{E}", {"title": "x"}, OWNER),
    ("post", f"/api/v1/entries/{E}/withdraw", None, OWNER),
    ("delete", f"/api/v1/entries/{E}", None, OWNER),
    ("get", f"/api/v1/entries/{E}/attachments", None, OWNER),
    ("get", f"/api/v1/entries/{E}/attachments/{A}/file", None, OWNER),
    ("delete", f"/api/v1/entries/{E}/attachments/{A}", None, OWNER),
    ("post", f"/api/v1/dept/entries/{E}/endorse", {}, DEPARTMENT),
    ("post", f"/api/v1/dept/entries/{E}/return", {"comment": "x"}, DEPARTMENT),
    ("get", "/api/v1/org/entries", None, ORGANIZER),
    ("get", "/api/v1/org/duplicates", None, ORGANIZER),
    ("post", f"/api/v1/org/entries/{E}/content-decision", {"decision": "release"}, ORGANIZER),
    # --- department access (issue 11) ---
    ("get", "/api/v1/org/departments/{department}/members", None, ORGANIZER),
    ("delete", "/api/v1/org/departments/{department}/members/{member}", None, ORGANIZER),
    ("post", "/api/v1/org/departments/{department}/invite", {"max_uses": 3}, ORGANIZER),
]
ROLES = ("anonymous", "unit_a", "unit_b", "dept_d", "dept_e", "organizer", "expert")


def call(client, token, method, path, body):
    """The response, fully read and closed (file downloads hold an open file otherwise)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = getattr(client, method)(path, json=body, headers=headers)
    response.get_data()
    response.close()
    return response


@pytest.mark.parametrize("method, template, body, expected", POLICY, ids=lambda v: str(v)[:40])
def test_policy(client, world, method, template, body, expected):
    path = template.format(
        entry=world["entry"].id,
        attachment=world["attachment"].id,
        department=world["department"].id,
        member=world["member"].id,
    )
    for role in ROLES:
        want = expected.get(role, NOT_FOUND)
        status = call(client, world["tokens"][role], method, path, body).status_code
        if want == OK:
            assert status not in (401, 403, 404), f"{role} {method} {path}: {status}"
        else:
            assert status == want, f"{role} {method} {path}: {status}, expected {want}"


def test_not_yours_looks_exactly_like_not_there(client, world):
    stranger = world["tokens"]["unit_b"]
    theirs = call(client, stranger, "get", f"/api/v1/entries/{world['entry'].id}", None)
    missing = call(client, stranger, "get", "/api/v1/entries/999999", None)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.data == missing.data
    file_path = f"/api/v1/entries/{world['entry'].id}/attachments/{world['attachment'].id}/file"
    assert call(client, stranger, "get", file_path, None).data == missing.data


def test_lists_only_show_what_is_yours(client, world):
    stranger = world["tokens"]["unit_b"]
    assert call(client, stranger, "get", "/api/v1/entries", None).get_json() == {"items": []}
    other_department = world["tokens"]["dept_e"]
    listed = call(client, other_department, "get", "/api/v1/dept/entries", None).get_json()
    assert listed == {"items": []}
