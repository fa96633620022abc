"""The walk-through of issue 12: a seeded campaign with 2 departments, 40 entries and 8
experts (one recusing) through pre-flight, solve, publish, scoring, the board, the chair's
queue, committee re-review (复核) and both rounds of decisions to apply; statuses at the
end, and one message per recipient in the WeChat sandbox."""

import datetime
import io

from openpyxl import load_workbook

from campaign.review.comments import published_comment
from models import Campaign, ConflictDeclaration, Entry, utcnow
from tests.factories import Organizer
from tests.review.review_world import TEMPLATES, auth, full_review, seed

pytest_plugins = ("tests.notice_fixtures",)  # fast_outbox

REVIEW = "/api/v1/org/review"


def sends(sandbox, template_id: str) -> dict:
    counts: dict = {}
    for send in sandbox.state.sends():
        if send["template_id"] == template_id:
            counts[send["openid"]] = counts.get(send["openid"], 0) + 1
    return counts


def test_walkthrough(client, open_window, wechat, settings, run_jobs, fast_outbox):
    world = seed(open_window, wechat, settings)
    org = Organizer(client, open_window)
    experts = world["experts"]
    parent, child = world["departments"]

    assert org.post(f"{REVIEW}/open").get_json() == {"moved": 40}
    first = client.get("/api/v1/expert/entries", headers=auth(experts[2]["token"]))
    assert first.get_json() == {"items": []}

    preflight = org.get(f"{REVIEW}/preflight").get_json()
    assert preflight["feasible"] and preflight["entries"] == 40 and preflight["experts"] == 8
    assert all("均可配齐" in d["message"] for d in preflight["domains"])

    queued = org.post(f"{REVIEW}/runs", json={})
    assert queued.status_code == 202
    run_jobs()
    job = org.get(f"{REVIEW}/jobs/{queued.get_json()['job']}").get_json()
    assert job["status"] == "finished"
    run_id = job["result"]["run"]
    assert org.get(f"{REVIEW}/runs").get_json()["items"][0]["id"] == run_id
    draft = org.get(f"{REVIEW}/runs/{run_id}").get_json()
    assert draft["status"] == "draft" and len(draft["diff"]["added"]) == 120
    assert client.get("/api/v1/expert/entries", headers=auth(experts[2]["token"])).get_json() == {
        "items": []
    }, "a draft is invisible to experts"

    published = org.post(f"{REVIEW}/runs/{run_id}/publish").get_json()
    assert published["status"] == "published" and published["notice"]
    run_jobs()
    assert sends(wechat, TEMPLATES["review"]) == {e["openid"]: 1 for e in experts}

    by_expert = {
        e["account"].id: [
            i["entry"]
            for i in client.get("/api/v1/expert/entries", headers=auth(e["token"])).get_json()[
                "items"
            ]
        ]
        for e in experts
    }
    entries = {e.id: e for e in Entry.select()}
    assert not [i for i in by_expert[experts[0]["account"].id] if entries[i].department_id]
    assert world["entries"][0].id not in by_expert[experts[1]["account"].id] or (
        world["entries"][0].unit_id != experts[1]["account"].expert_profiles[0].unit_id
    )

    # one expert recuses an entry: recorded, replaced, and the replacement is told once
    recusing = experts[3]
    recused = by_expert[recusing["account"].id][0]
    answer = client.post(
        f"/api/v1/expert/entries/{recused}/recuse",
        json={"reason": "曾指导该单位"},
        headers=auth(recusing["token"]),
    )
    assert answer.status_code == 200
    assert ConflictDeclaration.get(ConflictDeclaration.entry == recused).kind == "recusal"
    run_jobs()
    reviewers = {x for x, ids in by_expert.items() if recused in ids} - {recusing["account"].id}
    token_of = {e["account"].id: e for e in experts}
    now_listed = {
        e["account"].id: [
            i["entry"]
            for i in client.get("/api/v1/expert/entries", headers=auth(e["token"])).get_json()[
                "items"
            ]
        ]
        for e in experts
    }
    holders = {x for x, ids in now_listed.items() if recused in ids}
    assert len(holders) == 3 and recusing["account"].id not in holders
    (replacement,) = holders - reviewers
    review_sends = sends(wechat, TEMPLATES["review"])
    assert review_sends[token_of[replacement]["openid"]] == 2
    assert sum(review_sends.values()) == 9

    # the rubric refuses a half-done submit, listing every problem
    weights = org.get(f"{REVIEW}/rubric").get_json()["criteria"]
    weights = {c["code"]: c["max"] for c in weights}
    expert = experts[2]
    some = now_listed[expert["account"].id][0]
    refused = client.post(
        f"/api/v1/expert/entries/{some}/review/submit",
        json={"scores": {"operability": 99}},
        headers=auth(expert["token"]),
    )
    assert refused.status_code == 422
    fields = {f["field"] for f in refused.get_json()["error"]["fields"]}
    assert fields == {f"scores.{c}" for c in weights} | {"gate", "comment"}

    # everyone scores: expert 5 is 10 points more lenient; one 不通过 on the first entry
    quality = {entry_id: 55 + (entry_id * 7) % 40 for entry_id in entries}
    gate_failed, failed_once = world["entries"][5].id, False
    for e in experts:
        for entry_id in now_listed[e["account"].id]:
            base = quality[entry_id] + (10 if e is experts[5] else 0)
            gate = "pass"
            if entry_id == gate_failed and not failed_once:
                gate, failed_once = "fail", True
            body = full_review(weights, min(base, 100), gate=gate)
            path = f"/api/v1/expert/entries/{entry_id}/review"
            assert client.put(path, json=body, headers=auth(e["token"])).status_code == 200
            done = client.post(f"{path}/submit", json={}, headers=auth(e["token"]))
            assert done.status_code == 200, done.get_json()

    # reopening: the expert may until the deadline; after it only an organizer
    path = f"/api/v1/expert/entries/{some}/review"
    assert client.post(f"{path}/reopen", headers=auth(expert["token"])).status_code == 200
    assert client.post(f"{path}/submit", json={}, headers=auth(expert["token"])).status_code == 200
    Campaign.update(review_closes_at=utcnow() - datetime.timedelta(minutes=1)).execute()
    late = client.post(f"{path}/reopen", headers=auth(expert["token"]))
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "review_closed"
    assignment_id = next(a.id for a in expert["account"].assignments if a.entry_id == some)
    assert org.post(f"{REVIEW}/assignments/{assignment_id}/reopen").status_code == 200
    Campaign.update(review_closes_at=utcnow() + datetime.timedelta(days=1)).execute()
    assert client.post(f"{path}/submit", json={}, headers=auth(expert["token"])).status_code == 200

    board = org.get(f"{REVIEW}/board").get_json()
    rows = {r["entry"]: r for g in board["groups"] for r in g["entries"]}
    assert len(rows) == 40 and all(r["reviews"] == 3 for r in rows.values())
    assert [r["entry"] for r in board["chair_queue"]] == [gate_failed]
    lenient = next(p for p in board["experts"] if p["expert"] == experts[5]["account"].id)
    assert "高" in lenient["words"] and lenient["leniency"] > 3
    assert {"mean", "median", "spread", "disagreement", "corrected"} <= set(rows[some])
    assert set(rows[some]["criteria"]) == set(weights)

    # the chair queue blocks a positive decision until the chair rules
    blocked = org.put(f"{REVIEW}/entries/{gate_failed}/decision", json={"outcome": "shortlisted"})
    assert blocked.status_code == 409 and blocked.get_json()["error"]["code"] == "chair_pending"
    org.post(f"{REVIEW}/entries/{gate_failed}/chair", json={"outcome": "fail", "note": "不宜入选"})

    # round one: the best 24 are shortlisted (初选), the rest not selected
    ranked = sorted(rows.values(), key=lambda r: -r["mean"])
    ranked = [r for r in ranked if r["entry"] != gate_failed]
    shortlist = [r["entry"] for r in ranked[:24]]
    for entry_id in rows:
        outcome = "shortlisted" if entry_id in shortlist else "none"
        staged = org.put(f"{REVIEW}/entries/{entry_id}/decision", json={"outcome": outcome})
        assert staged.status_code == 200, staged.get_json()
    applied = org.post(f"{REVIEW}/decisions/apply").get_json()
    assert applied["applied"] == 40 and len(applied["notices"]) == 1
    run_jobs()

    # 复核 of the borderline band around the case cut line
    Campaign.update(quotas={"brand": 2, "case": 8}).execute()
    sent = org.post(f"{REVIEW}/recheck", json={"track": "case"}).get_json()["sent"]
    assert sent
    early = org.put(f"{REVIEW}/entries/{sent[0]}/decision", json={"outcome": "case"})
    assert early.status_code in (409,), early.get_json()
    for entry_id in sent:
        ruled = org.post(f"{REVIEW}/entries/{entry_id}/recheck", json={"outcome": "confirm"})
        assert ruled.status_code == 200

    # round two: brand and case awards against targets; going over asks for a reason
    brands = [e for e in shortlist if entries[e].track == "brand"][:2]
    cases = [e for e in shortlist if entries[e].track == "case"][:8]
    for entry_id in brands:
        assert (
            org.put(f"{REVIEW}/entries/{entry_id}/decision", json={"outcome": "brand"}).status_code
            == 200
        )
    for entry_id in cases:
        assert (
            org.put(f"{REVIEW}/entries/{entry_id}/decision", json={"outcome": "case"}).status_code
            == 200
        )
    extra = next(e for e in shortlist if e not in brands + cases)
    over = org.put(f"{REVIEW}/entries/{extra}/decision", json={"outcome": "case"})
    assert over.status_code == 422
    assert over.get_json()["error"]["fields"][0]["code"] == "over_quota"
    reason = {"outcome": "case", "reason": "评审会认为质量突出，超出目标名额"}
    assert org.put(f"{REVIEW}/entries/{extra}/decision", json=reason).status_code == 200
    for entry_id in shortlist:
        if entry_id not in brands + cases + [extra]:
            assert (
                org.put(
                    f"{REVIEW}/entries/{entry_id}/decision", json={"outcome": "none"}
                ).status_code
                == 200
            )
    quotas = org.get(f"{REVIEW}/decisions").get_json()["quotas"]["outcomes"]
    assert quotas["case"]["staged"] == 9 and quotas["case"]["over"]
    assert org.post(f"{REVIEW}/decisions/apply").get_json()["applied"] == 24
    run_jobs()

    statuses = {e.id: e.status for e in Entry.select()}
    awarded = set(brands + cases + [extra])
    assert {i for i, s in statuses.items() if s == "awarded"} == awarded
    assert {i for i, s in statuses.items() if s == "not_selected"} == set(rows) - awarded
    result_sends = sends(wechat, TEMPLATES["result"])
    owners = {entries[i].owner.openid for i in rows}
    assert result_sends == dict.fromkeys(owners, 1), "one result message per unit"

    # the published 专家点评 of a winner, and the exports
    winner = brands[0]
    chosen = next(a for a in entries[winner].assignments)
    body = {"assignment": chosen.id, "attribution": "专家组点评"}
    assert org.put(f"{REVIEW}/entries/{winner}/comment", json=body).status_code == 200
    assert published_comment(winner) == {"text": chosen.comment, "attribution": "专家组点评"}
    sheet = load_workbook(io.BytesIO(org.get(f"{REVIEW}/scores.xlsx").data)).active
    assert sheet.max_row == 1 + 120
    assert org.get(f"{REVIEW}/entries/{winner}/summary.pdf").data.startswith(b"%PDF")
