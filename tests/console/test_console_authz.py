"""Console routes × roles × objects, against a declared policy (DESIGN §3, T4).

Roles: anonymous, a WeChat user outside every department, members of departments D and E,
two experts (`expert` is assigned the entry red, `expert_b` is not), an organizer, an admin.
"Not yours" answers 404 like "does not exist"; anonymous GETs are sent to the login page (302).

Expert pages: the door (`/console/expert`) lets experts and admins in (an admin who is no
expert sees an empty list); an entry's pages answer only the expert it is assigned to —
another expert and an admin get 404 (an admin does not read as an expert), organizers and
departments 403 (not their pages: organizers read entries through their own pages).
"""

import pytest

from campaign.sessions import issue_token
from models import Assignment, AssignmentRun, ExpertProfile, KitArchive, MailIn, WechatUser
from pages import websession
from tasks.queue import redis_connection
from tests.console.conftest import Browser
from tests.factories import other_campaign
from tests.mailin.winners import make_winner
from tests.redeem.redeem_fixtures import session_of

OK, REDIRECT, FORBIDDEN, NOT_FOUND = 200, 302, 403, 404
ROLES = ("anonymous", "outsider", "dept_d", "dept_e", "expert_b", "expert", "organizer", "admin")


def policy(ok_for, others=FORBIDDEN, anonymous=REDIRECT, **special):
    row = {role: (OK if role in ok_for else others) for role in ROLES}
    row["anonymous"] = anonymous
    row["outsider"] = anonymous  # a WeChat user with no department is nobody to the console
    row.update(special)
    return row


ORGANIZER = ("organizer", "admin")
DEPARTMENT = ("dept_d", "dept_e")
ASSIGNED = {"expert_b": NOT_FOUND, "admin": NOT_FOUND}  # no assignment: as if it did not exist
PAGES = [
    ("/console/", policy(ORGANIZER)),
    ("/console/entries", policy(ORGANIZER)),
    ("/console/entries/{red}", policy(ORGANIZER)),
    ("/console/entries/{red}/attachments/{photo}", policy(ORGANIZER)),
    ("/console/units", policy(ORGANIZER)),
    ("/console/departments", policy(ORGANIZER)),
    ("/console/notices", policy(ORGANIZER)),
    ("/console/notices/new", policy(ORGANIZER)),
    ("/console/settings", policy(ORGANIZER)),
    ("/console/audit", policy(ORGANIZER)),
    ("/console/publications", policy(ORGANIZER)),
    ("/console/publications/draft/final", policy(ORGANIZER)),
    ("/console/publications/{publication}", policy(ORGANIZER)),
    ("/console/publications/{publication}/print", policy(ORGANIZER)),
    ("/console/objections", policy(ORGANIZER)),
    ("/console/objections/{objection}", policy(ORGANIZER)),
    ("/console/casebook", policy(ORGANIZER)),
    ("/console/casebook/builds/{casebook}", policy(ORGANIZER)),
    ("/console/casebook/builds/{foreign_casebook}", policy(ORGANIZER, organizer=404, admin=404)),
    ("/console/review/experts", policy(ORGANIZER)),
    ("/console/review/conflicts", policy(ORGANIZER)),
    ("/console/review/conflicts/detected", policy(ORGANIZER)),
    ("/console/review/preflight", policy(ORGANIZER)),
    ("/console/review/runs", policy(ORGANIZER)),
    ("/console/review/runs/{run}", policy(ORGANIZER)),
    ("/console/review/runs/{other_run}", policy((), organizer=NOT_FOUND, admin=NOT_FOUND)),
    ("/console/review/board", policy(ORGANIZER)),
    ("/console/review/holds", policy(ORGANIZER)),
    ("/console/review/decisions", policy(ORGANIZER)),
    ("/console/review/scores.xlsx", policy(ORGANIZER)),
    ("/console/accounts", policy(("admin",))),
    ("/console/jobs", policy(("admin",))),
    ("/console/mailroom", policy(ORGANIZER)),
    ("/console/mailroom/scan", policy(ORGANIZER)),
    ("/console/mailroom/{mailin}", policy(ORGANIZER)),
    ("/console/mailroom/export.xlsx", policy(ORGANIZER)),
    ("/console/exchange", policy(ORGANIZER)),
    ("/console/exchange/{session}", policy(ORGANIZER)),
    ("/console/exchange/{session}/door", policy(ORGANIZER)),
    ("/console/exchange/{session}/badges.pdf", policy(ORGANIZER)),
    ("/console/exchange/{session}/attendance.xlsx", policy(ORGANIZER)),
    ("/console/exchange/{other_session}", policy((), organizer=NOT_FOUND, admin=NOT_FOUND)),
    ("/console/expert", policy(("expert", "expert_b", "admin"))),
    ("/console/expert/entries/{red}", policy(("expert",), **ASSIGNED)),
    ("/console/expert/entries/{red}/attachments/{photo}", policy(("expert",), **ASSIGNED)),
    ("/console/dept/", policy(DEPARTMENT)),
    ("/console/dept/entries", policy(DEPARTMENT)),
    ("/console/dept/export", policy(DEPARTMENT)),
    ("/console/dept/kits/{kit_d}", policy(("dept_d",), dept_e=NOT_FOUND)),
]
ACTIONS = [
    ("/console/review/open", policy(("organizer", "admin"), anonymous=401)),
    ("/console/dept/entries/{red}/endorse", policy(("dept_d",), dept_e=NOT_FOUND, anonymous=401)),
    (  # no decision in the form: the organizer is past the door, the form is refused
        "/console/entries/{red}/content-decision",
        policy((), anonymous=401, organizer=422, admin=422),
    ),
    ("/console/accounts/{org_id}/disable", policy(("admin",), anonymous=401)),
    ("/console/expert/entries/{red}/review", policy(("expert",), anonymous=401, **ASSIGNED)),
    (  # nothing submitted yet: the assigned expert is past the door, the rule says no
        "/console/expert/entries/{red}/review/reopen",
        policy((), anonymous=401, expert=409, **ASSIGNED),
    ),
    ("/console/expert/entries/{red}/recuse", policy((), anonymous=401, expert=422, **ASSIGNED)),
    # a scan without its JSON body: refused at the door, then 400 for those past it
    ("/console/mailroom/scan", policy((), anonymous=401, organizer=400, admin=400)),
    ("/console/mailroom/scan/batch", policy((), anonymous=401, organizer=400, admin=400)),
    ("/console/exchange/{session}/door/scan", policy((), anonymous=401, organizer=400, admin=400)),
    ("/console/mailroom/{mailin}/checklist", policy((), anonymous=401, organizer=409, admin=409)),
    ("/console/exchange/sessions", policy((), anonymous=401, organizer=422, admin=422)),
    (  # another campaign's session is nobody's
        "/console/exchange/{other_session}/attendees",
        policy((), anonymous=401, organizer=NOT_FOUND, admin=NOT_FOUND),
    ),
    (  # no kind in the form: past the door, the publish is refused
        "/console/publications",
        policy((), anonymous=401, organizer=422, admin=422),
    ),
    (
        "/console/publications/{publication}/finalize",
        policy((), anonymous=401, organizer=409, admin=409),
    ),
    ("/console/objections/{objection}/handle", policy((), anonymous=401, organizer=422, admin=422)),
    ("/console/casebook/builds", policy(ORGANIZER, anonymous=401)),
    (  # an empty invitation: past the door, the rule lists what is missing
        "/console/review/experts",
        policy((), anonymous=401, organizer=422, admin=422),
    ),
    (  # the organizer discards the draft; the admin finds it discarded already
        "/console/review/runs/{run}/discard",
        policy((), anonymous=401, organizer=204, admin=409),
    ),
    (
        "/console/review/runs/{other_run}/discard",
        policy((), anonymous=401, organizer=404, admin=404),
    ),
    ("/console/review/entries/{red}/decision", policy((), anonymous=401, organizer=422, admin=422)),
]


@pytest.fixture
def signed_in(app, world, make_account):
    """A Browser per role, signed in the way the console does it."""
    accounts = {
        role: make_account(f"{role}-matrix", role) for role in ("expert", "organizer", "admin")
    }
    accounts["expert_b"] = make_account("expert_b-matrix", "expert")
    for expert in (accounts["expert"], accounts["expert_b"]):
        ExpertProfile.create(account=expert, campaign=world["campaign"], domains=["rural"])
    Assignment.create(entry=world["entries"]["red"], expert=accounts["expert"], assigned_by="t")
    holders = {
        **accounts,
        "outsider": WechatUser.create(app="mp", openid="o-outsider"),
        "dept_d": world["member_d"],
        "dept_e": world["member_e"],
    }
    browsers = {}
    for role in ROLES:
        browser = Browser(app.test_client())
        if role != "anonymous":
            token, _ = issue_token(holders[role], lifetime=websession.ABSOLUTE)
            redis_connection().set(websession._idle_key(token), "1", ex=600)
            browser.client.set_cookie("console_session", token, path="/console")
        browser.get("/console/dept/login")  # a page every role gets: its CSRF token
        browsers[role] = browser
    kit = KitArchive.create(
        campaign=world["campaign"], department=world["dept_d"], requested_by="t", status="ready"
    )
    mailin = _mailin(world["campaign"])
    publication, objection, casebook, foreign_casebook = _publication_objects(world)
    elsewhere = other_campaign(world["campaign"])
    ids = {
        "mailin": mailin.id,
        "session": session_of(world["campaign"]).id,
        "other_session": session_of(elsewhere).id,
        "publication": publication.id,
        "objection": objection.id,
        "casebook": casebook.id,
        "foreign_casebook": foreign_casebook.id,
        "run": AssignmentRun.create(campaign=world["campaign"], created_by="t").id,
        "other_run": AssignmentRun.create(campaign=elsewhere, created_by="t").id,
        "red": world["entries"]["red"].id,
        "photo": world["photo"].id,
        "kit_d": kit.id,
        "org_id": accounts["organizer"].id,
    }
    return browsers, ids


def _mailin(campaign) -> MailIn:
    """A winner's package, not yet received (so the checklist refuses with 409)."""
    from campaign.mailin.rules import ensure_mailins

    entry = make_winner(campaign)
    ensure_mailins(campaign)
    return MailIn.get(MailIn.entry == entry)


@pytest.mark.parametrize("path,expected", PAGES, ids=[p for p, _ in PAGES])
def test_pages(signed_in, path, expected):
    browsers, ids = signed_in
    got = {}
    for role in ROLES:
        response = browsers[role].client.get(path.format(**ids))
        got[role] = response.status_code
        response.close()
    assert got == expected


@pytest.mark.parametrize("path,expected", ACTIONS, ids=[p for p, _ in ACTIONS])
def test_actions(signed_in, path, expected):
    browsers, ids = signed_in
    got = {}
    for role in ROLES:
        response = browsers[role].post(path.format(**ids), htmx=True)
        got[role] = response.status_code
    # in ROLES' order, every refused role tries before the allowed one changes anything
    assert got == expected


def _publication_objects(world):
    """A published list with an objection, a casebook build, and a build of another campaign
    (which no one here may open: 404 like a missing one)."""
    import datetime

    from models import Casebook, Objection, Publication
    from tests.factories import other_campaign

    today = datetime.date.today()
    publication = Publication.create(
        campaign=world["campaign"], kind="final", title="入选名单公示", starts_on=today,
        ends_on=today + datetime.timedelta(days=7), published_by="t",
    )  # fmt: skip
    objection = Objection.create(
        publication=publication, filer_kind="person", name="王五", content="内容",
        received_via="phone",
    )  # fmt: skip
    casebook = Casebook.create(campaign=world["campaign"], requested_by="t")
    foreign = Casebook.create(
        campaign=other_campaign(world["campaign"], slug="other-casebook"), requested_by="t"
    )
    return publication, objection, casebook, foreign
