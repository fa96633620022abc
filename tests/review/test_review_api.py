"""The review endpoints over HTTP: inviting and changing experts, WeChat binding, the rubric,
pre-flight, runs discarded, and hand-made pairs (pin, swap, remove) with their refusals."""

from campaign.review import decisions
from campaign.sessions import issue_token
from models import Assignment, AssignmentRun, Campaign, ConflictDeclaration, WechatUser
from tests.factories import Organizer
from tests.review.review_world import auth, seed

REVIEW = "/api/v1/org/review"


def test_invite_change_and_list_experts(client, open_window):
    org = Organizer(client, open_window)
    bad = org.post("/api/v1/org/experts", json={"username": "exp1", "domains": ["x"], "cap": -1})
    assert bad.status_code == 422
    assert {f["field"] for f in bad.get_json()["error"]["fields"]} == {
        "display_name",
        "domains",
        "cap",
    }
    made = org.post(
        "/api/v1/org/experts",
        json={"username": "exp1", "display_name": "张专家", "domains": ["rural", "urban"]},
    )
    assert made.status_code == 201
    body = made.get_json()
    assert len(body["initial_password"]) >= 10 and body["cap"] == 120
    changed = org.patch(f"/api/v1/org/experts/{body['id']}", json={"cap": 40, "region": "福州市"})
    assert changed.get_json()["cap"] == 40 and changed.get_json()["region"] == "福州市"
    assert [e["username"] for e in org.get("/api/v1/org/experts").get_json()["items"]] == ["exp1"]
    assert org.get("/api/v1/org/experts/999999").status_code == 404


def test_an_expert_binds_wechat_from_the_mini_program(client, open_window):
    org = Organizer(client, open_window)
    made = org.post(
        "/api/v1/org/experts",
        json={
            "username": "exp2",
            "display_name": "李专家",
            "domains": ["rural"],
            "password": "p" * 12,
        },
    ).get_json()
    login = client.post("/api/v1/console/login", json={"username": "exp2", "password": "p" * 12})
    expert = login.get_json()["token"]
    code = client.post("/api/v1/expert/me/bind-code", headers=auth(expert)).get_json()["code"]
    user = WechatUser.create(app="wxa", openid="o-e2")
    wechat_token, _ = issue_token(user)
    bound = client.post("/api/v1/expert/bind", json={"code": code}, headers=auth(wechat_token))
    assert bound.get_json() == {"bound": True, "expert": "李专家"}
    again = client.post("/api/v1/expert/bind", json={"code": code}, headers=auth(wechat_token))
    assert again.status_code == 409
    assert org.get(f"/api/v1/org/experts/{made['id']}").get_json()["wechat_bound"]


def test_rubric_weights_over_http(client, open_window):
    org = Organizer(client, open_window)
    rubric = org.get(f"{REVIEW}/rubric").get_json()
    assert rubric["gate"]["label"] == "政治性" and rubric["editable"]
    assert sum(c["weight"] for c in rubric["criteria"]) == 100
    wrong = org.put(f"{REVIEW}/rubric", json={"weights": {"operability": 100}, "k": 2.5})
    assert wrong.status_code == 422
    assert {f["field"] for f in wrong.get_json()["error"]["fields"]} == {"weights", "k"}
    assert org.get(f"{REVIEW}/preflight?k=99").status_code == 422


def test_pin_swap_remove_and_discard(client, open_window, wechat, settings, run_jobs):
    world = seed(open_window, wechat, settings, entries=12, experts=5)
    decisions.open_review(open_window, "test")
    org = Organizer(client, open_window)
    org.post(f"{REVIEW}/runs", json={"k": 2})
    run_jobs()
    run = AssignmentRun.select().order_by(AssignmentRun.id.desc()).first()
    assert run.params["k"] == 2
    assert org.post(f"{REVIEW}/runs/{run.id}/discard").get_json()["status"] == "discarded"
    assert org.post(f"{REVIEW}/runs/{run.id}/publish").status_code == 409

    entry = next(e for e in world["entries"] if e.department_id is None and e.domain == "rural")
    in_department, owner_unit = world["experts"][0], world["experts"][1]
    free = next(
        x for x in world["experts"][2:] if "rural" in x["account"].expert_profiles[0].domains
    )
    pinned = org.post(
        f"{REVIEW}/assignments", json={"expert": free["account"].id, "entry": entry.id}
    )
    assert pinned.status_code == 201 and pinned.get_json()["pinned"]
    duplicate = org.post(
        f"{REVIEW}/assignments", json={"expert": free["account"].id, "entry": entry.id}
    )
    assert duplicate.status_code == 409
    listed = client.get("/api/v1/expert/entries", headers=auth(free["token"])).get_json()
    assert [i["entry"] for i in listed["items"]] == [entry.id], "a pin is live at once"
    other = next(
        x
        for x in world["experts"]
        if x is not free and "rural" in x["account"].expert_profiles[0].domains
        and x not in (in_department, owner_unit)
    )  # fmt: skip
    swapped = org.post(
        f"{REVIEW}/assignments/{pinned.get_json()['id']}/swap", json={"expert": other["account"].id}
    )
    assert swapped.status_code == 200 and swapped.get_json()["expert"] == other["account"].id
    assert not Assignment.select().where(Assignment.expert == free["account"].id).exists()
    gone = org.delete(f"{REVIEW}/assignments/{swapped.get_json()['id']}")
    assert gone.status_code == 204 and Assignment.select().count() == 0
    Campaign.update(review_opens_at=None).execute()
    assert org.get(f"{REVIEW}/rubric").get_json()["editable"]


def test_a_declared_conflict_is_withdrawn_and_a_recusal_stays(client, open_window):
    org = Organizer(client, open_window)
    made = org.post(
        "/api/v1/org/experts",
        json={"username": "exp9", "display_name": "周专家", "domains": ["rural"]},
    ).get_json()
    paused = org.patch(f"/api/v1/org/experts/{made['id']}", json={"active": False})
    assert paused.status_code == 200 and paused.get_json()["active"] is False
    department = org.department("某区委组织部")
    declared = org.post(
        f"{REVIEW}/conflicts", json={"expert": made["id"], "department": department["id"]}
    )
    assert declared.status_code == 201
    conflict_id = declared.get_json()["id"]
    assert org.delete(f"{REVIEW}/conflicts/{conflict_id}").status_code == 204
    assert org.get(f"{REVIEW}/conflicts").get_json() == {"items": []}
    assert org.delete(f"{REVIEW}/conflicts/{conflict_id}").status_code == 404
    recusal = ConflictDeclaration.create(
        expert=made["id"], department=department["id"], kind="recusal"
    )
    kept = org.delete(f"{REVIEW}/conflicts/{recusal.id}")
    assert kept.status_code == 409 and kept.get_json()["error"]["code"] == "recusal_kept"
