"""`GET /api/v1/campaign` serves the plan with DESIGN §9's field names."""


def test_campaign_contract(client, campaign):
    response = client.get("/api/v1/campaign")
    assert response.status_code == 200
    body = response.get_json()
    for key in ("title", "theme", "stage", "opens_at", "closes_at", "limits", "quotas", "contact"):
        assert key in body
    assert body["opens_at"] == "2021-04-01T00:00:00+08:00"
    assert body["closes_at"] == "2021-10-31T23:59:59+08:00"
    assert body["stage"] == "collection"
    assert [d["code"] for d in body["routes"]] == [
        "online",
        "org_dept",
        "industry_dept",
        "party_school",
    ]
    assert len(body["domains"]) == 7 and len(body["themes"]) == 4 and len(body["criteria"]) == 6
    assert all({"code", "label"} <= set(item) for item in body["domains"] + body["criteria"])
    assert body["limits"]["abstract"] == {"min": 200, "max": 300}
    assert body["limits"]["body"] == {"min": 3000, "max": 5000}
    assert body["quotas"] == {"brand": 10, "case": 100}
    assert body["contact"]["address"].startswith("福州市鼓屏路192号")


def test_no_campaign_is_a_clear_404(client):
    response = client.get("/api/v1/campaign")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "no_campaign"


def test_cli_upgrade_and_seed_are_idempotent(app, campaign):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "applied 0 migration(s)" in result.output
    result = runner.invoke(args=["campaign", "seed"])
    assert result.exit_code == 0
    assert "already present: fujian-2021" in result.output


def test_cli_load_refuses_a_broken_file(app, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("slug: x\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["campaign", "load", str(path)])
    assert result.exit_code != 0
    assert "missing 'title'" in result.output
