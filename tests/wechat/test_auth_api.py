"""Mini-program login, phone binding and logout through the HTTP API and the sandbox."""

import pytest

from models import AuthSession, WechatUser


def login(client, wechat, settings, openid="o-unit", unionid=None):
    if unionid:
        wechat.state.add_user(settings.wxa.appid, openid, unionid=unionid)
    code = wechat.state.login_code(settings.wxa.appid, openid)
    response = client.post("/api/v1/auth/wxa-login", json={"code": code})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_login_issues_our_own_token_and_keeps_session_key(client, wechat, settings):
    body = login(client, wechat, settings)
    assert set(body) == {"token", "expires_at", "user"}
    assert "session_key" not in str(body) and "o-unit" not in str(body)
    user = WechatUser.get(WechatUser.openid == "o-unit")
    assert user.session_key  # kept server-side
    assert AuthSession.get().token_hash != body["token"]  # only a hash is stored
    me = client.get("/api/v1/me", headers=bearer(body["token"]))
    assert me.status_code == 200
    assert me.get_json()["id"] == user.id


def test_a_login_code_works_once(client, wechat, settings):
    code = wechat.state.login_code(settings.wxa.appid, "o-once")
    assert client.post("/api/v1/auth/wxa-login", json={"code": code}).status_code == 200
    again = client.post("/api/v1/auth/wxa-login", json={"code": code})
    assert again.status_code == 400
    assert again.get_json()["error"]["code"] == "code_used"


def test_an_unknown_code_is_refused(client, wechat):
    response = client.post("/api/v1/auth/wxa-login", json={"code": "made-up"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_code"


def test_wechat_busy_is_503_not_500(client, wechat, settings):
    code = wechat.state.login_code(settings.wxa.appid, "o-busy")
    wechat.state.add_fault("/sns/jscode2session", errcode=-1)
    response = client.post("/api/v1/auth/wxa-login", json={"code": code})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "wechat_unavailable"


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": 42}, {"code": "x" * 200}])
def test_a_missing_or_odd_code_is_422(client, body):
    response = client.post("/api/v1/auth/wxa-login", json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0]["field"] == "code"


@pytest.mark.parametrize(
    "header", ["", "Bearer", "Bearer nope", "Basic abc", "Bearer " + "x" * 300]
)
def test_forged_or_missing_tokens_are_401(client, header):
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_logout_revokes_the_token(client, wechat, settings):
    token = login(client, wechat, settings)["token"]
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 200
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_phone_binding_uses_wechats_word_not_the_clients(client, wechat, settings):
    token = login(client, wechat, settings, "o-phone")["token"]
    code = wechat.state.phone_code(settings.wxa.appid, "o-phone", "13912345678")
    response = client.post("/api/v1/me/phone", json={"code": code}, headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json()["phone"] == "139****5678"
    assert WechatUser.get(WechatUser.openid == "o-phone").phone == "13912345678"
