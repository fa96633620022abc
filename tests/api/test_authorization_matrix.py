"""Every role × every object endpoint, against a declared policy (DESIGN §3, T4).

A unit never sees another unit's entry, a department never sees another department's
entries, WeChat users never reach organizer endpoints, console accounts never act as
WeChat users. "Not yours" is answered exactly like "does not exist".
"""

import datetime
import io

import pytest
from PIL import Image

from campaign.accounts import create_account
from campaign.sessions import issue_token
from models import (
    Attachment,
    Attendee,
    Department,
    DepartmentMember,
    Entry,
    ExchangeSession,
    ExpertProfile,
    MailIn,
    Unit,
    WechatUser,
    utcnow,
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
    winner = Entry.create(
        campaign=open_window, unit=unit_a, owner=users["unit_a"], route="online",
        status="awarded", title="入选案例",
    )  # fmt: skip
    mailin = MailIn.create(entry=winner)
    return {
        "tokens": tokens, "entry": entry, "attachment": attachment, "winner": winner,
        "mailin": mailin, "department": dept_d, "member": users["dept_d"],
    }  # fmt: skip


# (method, path template, body) → {role: expected}; roles not listed expect NOT_FOUND.
E, A, W, M = "{entry}", "{attachment}", "{winner}", "{mailin}"
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
    # --- publication (issue 13) ---
    ("get", "/api/v1/org/publications", None, ORGANIZER),
    ("get", "/api/v1/org/publications/preview?kind=final", None, ORGANIZER),
    ("post", "/api/v1/org/publications", {"kind": "final"}, ORGANIZER),
    ("put", f"/api/v1/org/publications/consents/{E}", {"granted": True}, ORGANIZER),
    # mail-in and casebook (issue 13): unit A has the winning entry `W`, mail-in `M`
    ("get", f"/api/v1/me/mailin/form.pdf?entry={W}", None, OWNER),
    ("get", f"/api/v1/me/mailin/form.docx?entry={W}", None, OWNER),
    ("get", f"/api/v1/me/mailin/cover.pdf?entry={W}", None, OWNER),
    ("get", "/api/v1/org/mailin", None, ORGANIZER),
    ("post", f"/api/v1/org/mailin/{M}/checklist", {"items": {"text": True}}, ORGANIZER),
    ("get", "/api/v1/org/mailin/export.xlsx", None, ORGANIZER),
    ("get", "/api/v1/org/casebook/builds", None, ORGANIZER),
    ("get", f"/api/v1/org/casebook/preview/{W}", None, ORGANIZER),
    # collection (issue 10): a department never sees another department's evidence
    ("get", f"/api/v1/dept/entries/{E}/attachments", None, DEPARTMENT),
    ("get", f"/api/v1/dept/entries/{E}/changes", None, DEPARTMENT),
    ("get", f"/api/v1/org/entries/{E}/attachments", None, ORGANIZER),
    ("get", "/api/v1/org/evidence/pending", None, ORGANIZER),
    (
        "post",
        f"/api/v1/org/attachments/{A}/decision",
        {"decision": "pass", "reason": "ok"},
        ORGANIZER,
    ),
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
    names = ("entry", "attachment", "winner", "mailin", "department", "member")
    path = template.format(**{name: world[name].id for name in names})
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


def test_publication_endpoints_are_for_organizers_only(client, world):
    """A unit or department never reaches a publication or its objections (issue 13)."""
    from campaign.entries import status
    from campaign.publication import lists, objections
    from models import Decision, Publication

    entry = world["entry"]
    for target in (status.UNDER_REVIEW, status.SHORTLISTED, status.AWARDED):
        status.move(entry, target, "test")
    Decision.create(entry=entry, award="case", state="applied", decided_by="test")
    publication = lists.publish(entry.campaign, {"kind": "final", "starts_on": "2021-09-30"}, "t")
    objection = objections.file_objection(
        Publication.get_by_id(publication.id),
        {"name": "张三", "phone": "13900001111", "content": "异议"},
        "phone",
        "test",
    )
    p, o = publication.id, objection.id
    calls = [
        ("get", f"/api/v1/org/publications/{p}", None),
        ("put", f"/api/v1/org/publications/{p}/window", {"ends_on": "2021-10-20"}),
        ("get", f"/api/v1/org/publications/{p}/objections", None),
        ("post", f"/api/v1/org/publications/{p}/objections", {"received_via": "visit"}),
        ("post", f"/api/v1/org/publications/objections/{o}/handle", {"to": "verifying"}),
        ("get", f"/api/v1/org/publications/objections/{o}/letter", None),
        ("post", f"/api/v1/org/publications/{p}/republish", {"reason": "x"}),
        ("post", f"/api/v1/org/publications/{p}/finalize", None),
    ]
    for method, path, body in calls:
        for role in ROLES:
            got = call(client, world["tokens"][role], method, path, body).status_code
            want = ORGANIZER.get(role, NOT_FOUND)
            if want == OK:
                assert got not in (401, 403), f"{role} {method} {path}: {got}"
            else:
                assert got == want, f"{role} {method} {path}: {got}, expected {want}"
    assert Publication.get_by_id(p).state == "open"  # finalize refused: objection verifying


# --- Redeem and exchange (issue 13) ---
S, T, P = "{session}", "{attendee}", "{ticket}"
UNIT_CONTACTS = {**WECHAT_ONLY, "unit_a": OK, "unit_b": OK}
WECHAT_USERS = {**UNIT_CONTACTS, "dept_d": OK, "dept_e": OK}
EXCHANGE_POLICY = [
    ("post", "/api/v1/org/redeem", {"code": P, "nonce": "m-1"}, ORGANIZER),
    ("post", "/api/v1/org/redeem/batch", {"scans": [{"code": P, "nonce": "m"}]}, ORGANIZER),
    ("get", "/api/v1/org/exchange/sessions", None, ORGANIZER),
    ("post", "/api/v1/org/exchange/sessions", {"title": "x"}, ORGANIZER),
    ("get", f"/api/v1/org/exchange/sessions/{S}", None, ORGANIZER),
    ("patch", f"/api/v1/org/exchange/sessions/{S}", {"place": "x"}, ORGANIZER),
    ("get", f"/api/v1/org/exchange/sessions/{S}/attendees", None, ORGANIZER),
    ("get", f"/api/v1/org/exchange/sessions/{S}/badges.pdf", None, ORGANIZER),
    ("get", f"/api/v1/org/exchange/sessions/{S}/attendance.xlsx", None, ORGANIZER),
    ("post", f"/api/v1/org/exchange/attendees/{T}/cancel", None, ORGANIZER),
    ("get", "/api/v1/me/exchange/sessions", None, WECHAT_USERS),
    ("get", "/api/v1/me/exchange/attendees", None, UNIT_CONTACTS),
    ("get", f"/api/v1/me/exchange/attendees/{T}/ticket.png", None, OWNER),
    ("delete", f"/api/v1/me/exchange/attendees/{T}", None, OWNER),
]


@pytest.fixture
def exchange_world(world, open_window):
    """Unit A's attendee (with a ticket) in a session of the campaign."""
    session = ExchangeSession.create(
        campaign=open_window,
        title="线下交流会",
        starts_at=utcnow() + datetime.timedelta(days=3),
        capacity=10,
    )
    attendee = Attendee.create(
        campaign=open_window,
        session=session,
        unit=world["entry"].unit,
        name="参会人",
        ticket_code="matrix-ticket-code-0001",
        registered_by="test",
    )
    return {**world, "session": session, "attendee": attendee}


def _filled(value, ids: dict):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: _filled(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_filled(item, ids) for item in value]
    return value


@pytest.mark.parametrize(
    "method, template, body, expected", EXCHANGE_POLICY, ids=lambda v: str(v)[:50]
)
def test_exchange_policy(client, exchange_world, method, template, body, expected):
    ids = {
        "session": exchange_world["session"].id,
        "attendee": exchange_world["attendee"].id,
        "ticket": exchange_world["attendee"].ticket_code,
    }
    path, body = _filled(template, ids), _filled(body, ids)
    for role in ROLES:
        want = expected.get(role, NOT_FOUND)
        status = call(client, exchange_world["tokens"][role], method, path, body).status_code
        if want == OK:
            assert status not in (401, 403, 404), f"{role} {method} {path}: {status}"
        else:
            assert status == want, f"{role} {method} {path}: {status}, expected {want}"


def test_a_unit_sees_only_its_own_tickets(client, exchange_world):
    tokens, attendee = exchange_world["tokens"], exchange_world["attendee"]
    own = call(client, tokens["unit_a"], "get", "/api/v1/me/exchange/attendees", None)
    assert [a["ticket"]["code"] for a in own.get_json()["items"]] == [attendee.ticket_code]
    other = call(client, tokens["unit_b"], "get", "/api/v1/me/exchange/attendees", None)
    assert other.get_json() == {"items": []}
    theirs = f"/api/v1/me/exchange/attendees/{attendee.id}/ticket.png"
    missing = "/api/v1/me/exchange/attendees/999999/ticket.png"
    answers = [call(client, tokens["unit_b"], "get", p, None) for p in (theirs, missing)]
    assert answers[0].status_code == answers[1].status_code == 404
    assert answers[0].data == answers[1].data


# --- review (issue 12) ---
# Experts reach only what is assigned to them; organizers' review endpoints refuse experts
# (403) and WeChat users (401); "not assigned" is byte-identical to "does not exist".
R = "/api/v1/org/review"
ORG_REVIEW_POLICY = [
    ("get", "/api/v1/org/experts", None),
    ("get", f"{R}/rubric", None),
    ("get", f"{R}/preflight", None),
    ("get", f"{R}/runs", None),
    ("get", f"{R}/board", None),
    ("get", f"{R}/decisions", None),
    ("get", f"{R}/conflicts", None),
    ("get", f"{R}/scores.xlsx", None),
    ("get", f"{R}/entries/{E}/summary.pdf", None),
    ("put", f"{R}/entries/{E}/decision", {"outcome": "none"}),
    ("post", f"{R}/entries/{E}/chair", {"outcome": "pass"}),
]
EXPERT_POLICY = [
    ("get", f"/api/v1/expert/entries/{E}", None),
    ("get", f"/api/v1/expert/entries/{E}/attachments/{A}/file", None),
    ("put", f"/api/v1/expert/entries/{E}/review", {"comment": "草稿"}),
    ("post", f"/api/v1/expert/entries/{E}/review/submit", {}),
    ("post", f"/api/v1/expert/entries/{E}/recuse", {"reason": "x"}),
]
REVIEW_ROLES = (*ROLES, "expert_b")


@pytest.fixture
def review_world(world, open_window):
    """The matrix world, plus: `expert` has a profile and the entry assigned (published);
    `expert_b` is another expert (another domain: never the replacement), nothing assigned."""
    from campaign.review import experts as expert_rules
    from models import Account, Assignment

    entry = world["entry"]
    Entry.update(status="under_review", domain="rural").where(Entry.id == entry.id).execute()
    account = Account.get(Account.username == "exp")
    ExpertProfile.create(account=account, campaign=open_window, domains=["rural"])
    Assignment.create(entry=entry, expert=account, assigned_by="test")
    other, _ = expert_rules.invite(
        open_window,
        {"username": "exp-b", "display_name": "乙", "domains": ["urban"], "password": "x" * 12},
        "test",
    )
    world["tokens"]["expert_b"], _ = issue_token(other.account)
    return world


@pytest.mark.parametrize("method, template, body", ORG_REVIEW_POLICY, ids=lambda v: str(v)[:40])
def test_review_organizer_policy(client, review_world, method, template, body):
    path = template.format(entry=review_world["entry"].id)
    expected = {**ORGANIZER, "expert_b": FORBIDDEN}
    for role in REVIEW_ROLES:
        status = call(client, review_world["tokens"][role], method, path, body).status_code
        if expected[role] == OK:
            assert status not in (401, 403, 404), f"{role} {method} {path}: {status}"
        else:
            assert status == expected[role], f"{role} {method} {path}: {status}"


@pytest.mark.parametrize("method, template, body", EXPERT_POLICY, ids=lambda v: str(v)[:40])
def test_review_expert_policy(client, review_world, method, template, body):
    path = template.format(entry=review_world["entry"].id, attachment=review_world["attachment"].id)
    expected = {
        **{role: UNAUTHORIZED for role in ("anonymous", "unit_a", "unit_b", "dept_d", "dept_e")},
        "organizer": FORBIDDEN,
        "expert": OK,
        "expert_b": NOT_FOUND,
    }
    for role in REVIEW_ROLES:
        status = call(client, review_world["tokens"][role], method, path, body).status_code
        if expected[role] == OK:
            assert status not in (401, 403, 404), f"{role} {method} {path}: {status}"
        else:
            assert status == expected[role], f"{role} {method} {path}: {status}"


def test_an_expert_never_reads_route_department_or_endorsement(client, review_world):
    entry = review_world["entry"]
    token = review_world["tokens"]["expert"]
    read = call(client, token, "get", f"/api/v1/expert/entries/{entry.id}", None).get_json()
    assert {"route", "department", "channel", "status", "endorsement"} & set(read["entry"]) == set()
    assert "org_dept" not in str(read) and "D" not in {read["entry"]["unit"]}
    unassigned = call(
        client,
        review_world["tokens"]["expert_b"],
        "get",
        f"/api/v1/expert/entries/{entry.id}",
        None,
    )
    missing = call(client, token, "get", "/api/v1/expert/entries/999999", None)
    assert unassigned.data == missing.data


def test_a_department_never_reads_scores(client, review_world):
    from models import Assignment, Score

    assignment = Assignment.get(Assignment.entry == review_world["entry"].id)
    Score.create(assignment=assignment, criterion="operability", value=17.5, comment="评分备注")
    Assignment.update(comment="专家点评内容", gate="pass").execute()
    listed = call(client, review_world["tokens"]["dept_d"], "get", "/api/v1/dept/entries", None)
    assert listed.status_code == 200 and listed.get_json()["items"]
    text = listed.get_data(as_text=True)
    assert "17.5" not in text and "专家点评内容" not in text and "评分备注" not in text


def test_a_unit_sees_only_its_own_mail_in(client, world):
    """Unit B has no winner: its list is empty and unit A's forms answer as if missing."""
    stranger, owner = world["tokens"]["unit_b"], world["tokens"]["unit_a"]
    assert call(client, stranger, "get", "/api/v1/me/mailin", None).get_json() == {"items": []}
    (mine,) = call(client, owner, "get", "/api/v1/me/mailin", None).get_json()["items"]
    assert mine["id"] == world["mailin"].id
    theirs = call(
        client, stranger, "get", f"/api/v1/me/mailin/cover.pdf?entry={mine['entry']['id']}", None
    )
    missing = call(client, stranger, "get", "/api/v1/me/mailin/cover.pdf?entry=999999", None)
    assert theirs.status_code == missing.status_code == 404 and theirs.data == missing.data


# --- H5 pages (issue 15) ---
H5_CALLS = [
    ("get", f"/h5/entries/{E}"),
    ("post", f"/h5/entries/{E}"),
    ("post", f"/h5/entries/{E}/autosave"),
    ("get", f"/h5/entries/{E}/evidence/{A}"),
    ("post", f"/h5/entries/{E}/evidence"),
    ("post", f"/h5/entries/{E}/evidence/{A}/delete"),
    ("post", f"/h5/entries/{E}/withdraw"),
]


def test_h5_sessions_only_reach_their_own_entries(app, world):
    """One unit's H5 cookie session never reads or changes another unit's entry; a
    department member's is a unit session too; without one, every page asks to sign in."""
    from tests.factories import h5_signed_in

    users = {role: WechatUser.get(WechatUser.openid == f"o-{role}") for role in ROLES[1:5]}
    browsers = {"anonymous": (app.test_client(), "")}
    for role, user in users.items():
        browser = app.test_client()
        browsers[role] = (browser, h5_signed_in(browser, user))
    for method, template in H5_CALLS:
        path = template.format(entry=world["entry"].id, attachment=world["attachment"].id)
        for role, (browser, csrf) in browsers.items():
            kwargs = {"data": {"csrf_token": csrf, "title": "改"}} if method == "post" else {}
            response = getattr(browser, method)(path, **kwargs)
            response.get_data()
            response.close()
            if role == "unit_a":
                assert response.status_code not in (401, 403, 404), f"{role} {path}"
            elif role == "anonymous":
                want = 302 if method == "get" else 403  # sign in first; no CSRF token yet
                assert response.status_code == want, f"{role} {method} {path}"
            else:
                assert response.status_code == 404, f"{role} {method} {path}"
