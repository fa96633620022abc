"""Console accounts: sign-in, lockout, token separation from WeChat users."""

import pytest

from campaign.accounts import create_account
from campaign.sessions import issue_token
from models import Account, AuditLog, WechatUser

PASSWORD = "correct horse battery"


@pytest.fixture
def organizer(campaign):
    return create_account("organizer1", PASSWORD, "organizer", "组织者", campaign)


def sign_in(client, username="organizer1", password=PASSWORD):
    return client.post("/api/v1/console/login", json={"username": username, "password": password})


def test_sign_in_and_me(client, organizer):
    response = sign_in(client)
    assert response.status_code == 200
    token = response.get_json()["token"]
    me = client.get("/api/v1/console/me", headers={"Authorization": f"Bearer {token}"})
    assert me.get_json()["role"] == "organizer"
    assert AuditLog.select().where(AuditLog.action == "account.sign_in").count() == 1
    assert "password" not in str(me.get_json())


def test_wrong_password_and_unknown_user_look_the_same(client, organizer):
    wrong = sign_in(client, password="nope-nope-nope")
    unknown = sign_in(client, username="nobody")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()


def test_five_failures_lock_the_account(client, organizer):
    for _ in range(5):
        assert sign_in(client, password="wrong-password").status_code == 401
    locked = sign_in(client)  # even the right password
    assert locked.status_code == 423
    assert locked.get_json()["error"]["code"] == "account_locked"


def test_disabled_accounts_cannot_sign_in(client, organizer):
    Account.update(active=False).execute()
    assert sign_in(client).get_json()["error"]["code"] == "account_disabled"


def test_console_and_wechat_tokens_do_not_cross(client, organizer):
    console_token = sign_in(client).get_json()["token"]
    wechat_token, _ = issue_token(WechatUser.create(app="wxa", openid="o"))
    as_user = client.get("/api/v1/me", headers={"Authorization": f"Bearer {console_token}"})
    as_console = client.get(
        "/api/v1/console/me", headers={"Authorization": f"Bearer {wechat_token}"}
    )
    assert as_user.status_code == as_console.status_code == 401


def test_logout(client, organizer):
    token = sign_in(client).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/console/logout", headers=headers).status_code == 200
    assert client.get("/api/v1/console/me", headers=headers).status_code == 401


def test_short_passwords_are_refused(campaign):
    with pytest.raises(ValueError, match="10 characters"):
        create_account("x", "short", "organizer", "x", campaign)


def test_cli_creates_an_account(app, campaign):
    result = app.test_cli_runner().invoke(
        args=["accounts", "create", "expert1", "--role", "expert", "--password", PASSWORD]
    )
    assert result.exit_code == 0, result.output
    account = Account.get(Account.username == "expert1")
    assert (account.role, account.campaign_id) == ("expert", campaign.id)
