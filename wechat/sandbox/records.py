"""The record types of the sandbox's WeChat world, shared by the state and the endpoints.

Frozen records (apps, tickets, templates, OAuth grants) are replaced rather than changed, so a
request holding one sees a consistent snapshot; the mutable ones live only inside
`SandboxState`, which hands out copies.
"""

from dataclasses import dataclass

DEFAULT_PAGE = "pages/index/index"


@dataclass
class Config:
    """Tunable behaviour; the defaults are WeChat's real values."""

    push_timeout: float = 5.0
    token_grace: float = 300.0
    token_ttl: float = 7200.0
    token_daily_limit: int = 2000
    template_finish_delay: float = 0.2
    permanent_qr_limit: int = 100_000


@dataclass(frozen=True)
class App:
    """An official account ("mp") or mini-program ("wxa") and its callback settings."""

    kind: str
    appid: str
    secret: str
    token: str
    aes_key: str
    callback_url: str | None
    mode: str
    push_format: str
    original_id: str
    pages: tuple[str, ...] = (DEFAULT_PAGE,)


@dataclass
class User:
    """A WeChat user as one app sees them (openids are per app)."""

    appid: str
    openid: str
    unionid: str | None = None
    nickname: str = "微信用户"
    follower: bool = False
    phone: str | None = None
    subscribe_time: int = 0
    subscribe_scene: str = ""
    qr_scene: int = 0
    qr_scene_str: str = ""
    session_key: str | None = None


@dataclass
class Code:
    """A single-use code the client side receives: wx.login, the phone button, an OAuth redirect."""

    kind: str
    appid: str
    openid: str
    expires_at: float
    scope: str = ""
    phone: str = ""
    used: bool = False


@dataclass(frozen=True)
class OAuthGrant:
    """What `/sns/oauth2/access_token` hands out for a web-OAuth code."""

    access_token: str
    refresh_token: str
    appid: str
    openid: str
    scope: str
    expires_at: float
    unionid: str | None


@dataclass(frozen=True)
class QrTicket:
    """A parametric QR code of an official account; permanent ones never expire."""

    ticket: str
    appid: str
    action_name: str
    scene_id: int | None
    scene_str: str | None
    url: str
    expires_at: float | None

    @property
    def scene(self) -> str:
        """The scene as it appears in EventKey."""
        return self.scene_str if self.scene_str is not None else str(self.scene_id)


@dataclass(frozen=True)
class Template:
    """A subscribe-message or template-message template and the type of each keyword."""

    appid: str
    template_id: str
    keys: dict[str, str]
    long_term: bool = False


@dataclass
class Fault:
    """A misbehaviour injected for the next `times` calls of one API path."""

    path: str
    mode: str = "error"
    errcode: int = -1
    times: int = 1
    delay: float | None = None
