"""`POST /api/v1/org/redeem` and `/redeem/batch`: answers, error shapes, offline replays."""

from redeem_fixtures import many_tickets, organizer_token, ticket

from models import Redemption


def scan(client, token, body, path="/api/v1/org/redeem"):
    return client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})


def test_redeemed_then_the_same_body_again_then_already_redeemed(client, campaign):
    token = organizer_token(campaign)
    code = ticket(campaign).ticket_code
    body = {"code": code, "nonce": "n-1", "datetime": "2021-12-01T09:30:00+08:00"}
    first = scan(client, token, body)
    assert first.status_code == 200
    assert first.get_json()["status"] == "redeemed"
    assert first.get_json()["object"]["name"] == "参会人1"
    assert first.get_json()["redemption"]["at"] == "2021-12-01T09:30:00+08:00"
    again = scan(client, token, body)
    assert (again.status_code, again.data) == (200, first.data)
    other = scan(client, token, {**body, "nonce": "n-2"})
    assert other.status_code == 409
    error = other.get_json()["error"]
    assert error["code"] == "already_redeemed" and error["fields"] == []
    assert error["first"]["at"] == "2021-12-01T09:30:00+08:00"
    assert error["first"]["by_name"] == "门口签到员"
    assert "2021-12-01 09:30" in error["message"] and "门口签到员" in error["message"]


def test_force_succeeds_on_a_used_code_and_says_it_was_forced(client, campaign):
    token = organizer_token(campaign)
    code = ticket(campaign).ticket_code
    scan(client, token, {"code": code, "nonce": "n-1"})
    forced = scan(client, token, {"code": code, "nonce": "n-2", "force": True})
    assert forced.status_code == 200
    assert forced.get_json()["redemption"]["forced"] is True


def test_unknown_code_is_a_404_in_the_error_shape(client, campaign):
    response = scan(client, organizer_token(campaign), {"code": "nope-nope", "nonce": "n"})
    assert response.status_code == 404
    message = "无法识别该二维码或编码，请核对后重试"
    assert response.get_json() == {
        "error": {"code": "unknown_code", "message": message, "fields": []}
    }


def test_every_bad_field_is_listed_at_once(client, campaign):
    body = {"code": 5, "nonce": "", "datetime": "yesterday", "force": "yes"}
    response = scan(client, organizer_token(campaign), body)
    assert response.status_code == 422
    fields = {problem["field"] for problem in response.get_json()["error"]["fields"]}
    assert fields == {"code", "nonce", "datetime", "force"}


def test_a_batch_answers_each_scan_in_order(client, campaign):
    token = organizer_token(campaign)
    code = ticket(campaign).ticket_code
    scans = [
        {"code": code, "nonce": "a"},
        {"code": code, "nonce": "b"},
        {"code": "nope-nope", "nonce": "c"},
        {"code": code},
        "not a scan",
    ]
    response = scan(client, token, {"scans": scans}, "/api/v1/org/redeem/batch")
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [
        "redeemed",
        "already_redeemed",
        "error",
        "error",
        "error",
    ]
    assert [r["nonce"] for r in results] == ["a", "b", "c", None, None]
    assert results[2]["error"]["code"] == "unknown_code"
    assert results[3]["error"]["fields"][0]["field"] == "nonce"


def test_a_batch_must_hold_one_to_a_thousand_scans(client, campaign):
    token = organizer_token(campaign)
    for scans in ([], None, [{}] * 1001):
        response = scan(client, token, {"scans": scans}, "/api/v1/org/redeem/batch")
        assert response.status_code == 422


def test_replaying_a_thousand_offline_scans_twice_creates_a_thousand(client, campaign):
    token = organizer_token(campaign)
    codes = many_tickets(campaign, 1000)
    scans = [
        {"code": code, "nonce": f"offline-{n}", "datetime": "2021-12-01T09:00:00+08:00"}
        for n, code in enumerate(codes)
    ]
    answers = []
    for _ in range(2):
        response = scan(client, token, {"scans": scans}, "/api/v1/org/redeem/batch")
        assert response.status_code == 200
        answers.append(response.get_json()["results"])
    assert Redemption.select().count() == 1000
    assert {r["status"] for r in answers[0] + answers[1]} == {"redeemed"}
    assert answers[0] == answers[1]  # the replay answers exactly what the first upload did


def test_control_characters_are_refused_not_sent_to_the_database(client, campaign):
    """PostgreSQL rejects NUL in text: such input must be a 4xx, never a server error. The
    strict JSON reader (api/payload.py) refuses it before any handler sees it."""
    token = organizer_token(campaign)
    for body in (
        {"code": "abc\x00def", "nonce": "n"},
        {"code": ticket(campaign).ticket_code, "nonce": "n\x00"},
    ):
        refused = scan(client, token, body)
        assert refused.status_code == 400
        assert refused.get_json()["error"]["code"] == "invalid_text"
