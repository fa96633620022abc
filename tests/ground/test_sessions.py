"""Bearer tokens as plain functions: only a hash is kept, they expire, they can be revoked,
and a console token stops working with its account."""

import datetime
import hashlib

from campaign.accounts import create_account
from campaign.sessions import (
    CONSOLE_TOKEN_LIFETIME,
    TOKEN_LIFETIME,
    account_of,
    issue_token,
    live_session,
    revoke_token,
    user_of,
)
from models import Account, AuthSession, Campaign, WechatUser, utcnow


def test_a_wechat_token_finds_its_user_and_only_its_hash_is_stored(app):
    user = WechatUser.create(app="wxa", openid="o-1")
    token, expires_at = issue_token(user)
    assert user_of(live_session(token)).id == user.id
    assert account_of(live_session(token)) is None
    stored = AuthSession.get(AuthSession.user == user)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    assert abs(expires_at - (utcnow() + TOKEN_LIFETIME)) < datetime.timedelta(minutes=1)


def test_a_console_token_finds_its_account_not_a_user(campaign):
    account = create_account("org1", "correct horse battery", "organizer", "组织者", campaign)
    token, expires_at = issue_token(account)
    assert account_of(live_session(token)).id == account.id
    assert user_of(live_session(token)) is None
    assert abs(expires_at - (utcnow() + CONSOLE_TOKEN_LIFETIME)) < datetime.timedelta(minutes=1)


def test_a_deactivated_account_loses_its_token(campaign):
    account = create_account("org1", "correct horse battery", "organizer", "组织者", campaign)
    token, _ = issue_token(account)
    Account.update(active=False).where(Account.id == account.id).execute()
    assert account_of(live_session(token)) is None


def test_expired_tokens_do_not_work(app):
    user = WechatUser.create(app="wxa", openid="o-1")
    token, _ = issue_token(user)
    AuthSession.update(expires_at=utcnow() - datetime.timedelta(seconds=1)).execute()
    assert user_of(live_session(token)) is None


def test_revoking_is_immediate_and_once(app):
    user = WechatUser.create(app="wxa", openid="o-1")
    token, _ = issue_token(user)
    other, _ = issue_token(user)
    assert revoke_token(token) is True
    assert user_of(live_session(token)) is None
    assert revoke_token(token) is False
    assert user_of(live_session(other)).id == user.id  # the other device stays signed in


def test_unknown_empty_and_oversized_tokens_find_nobody(app):
    user = WechatUser.create(app="wxa", openid="o-1")
    token, _ = issue_token(user)
    assert user_of(live_session("")) is None
    assert user_of(live_session(token + "x")) is None
    assert user_of(live_session("a" * 129)) is None
    assert revoke_token("never-issued") is False


def test_the_session_brings_the_current_campaign_or_none(campaign):
    """One query gives the request its holder and the campaign it works in."""
    user = WechatUser.create(app="wxa", openid="o-1")
    token, _ = issue_token(user)
    assert live_session(token).current_campaign.id == campaign.id
    assert live_session(token).current_campaign.title == campaign.title
    Campaign.update(is_current=False).execute()
    session = live_session(token)
    assert session.user.id == user.id and session.current_campaign is None
