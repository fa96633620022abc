"""Users and follows: who an app has seen (per-app openids, unionids, phones) and who follows it.

Behind `/cgi-bin/user/info` (api_users.py) and every area that creates a user on first contact
(a login code, an OAuth redirect, a scan, a popup). The other areas call `ensure`, `find` and
`live` with the sandbox lock already held; the public methods take the lock themselves.
"""

import secrets
from dataclasses import replace

from .errors import WeChatError
from .records import QrTicket, User
from .state_area import Area


class UserState(Area):
    """Every (app, openid) the sandbox knows, as mutable records it hands out copies of."""

    def clear(self) -> None:
        """Forget every user (lock held)."""
        self._users: dict[tuple[str, str], User] = {}

    def summary(self) -> dict:
        """The user count for `GET /__admin/state` (lock held)."""
        return {"users": len(self._users)}

    # -- public -------------------------------------------------------------------------

    def add_user(
        self,
        appid: str,
        openid: str | None = None,
        unionid: str | None = None,
        nickname: str | None = None,
        follower: bool | None = None,
        phone: str | None = None,
    ) -> User:
        """Create a user (with a fresh openid unless given) or update the given fields."""
        with self.world.lock:
            user = self.ensure(appid, openid)
            for name, value in (("unionid", unionid), ("nickname", nickname), ("phone", phone)):
                if value is not None:
                    setattr(user, name, value)
            if follower and not user.follower:
                self.mark_follower(user, "ADD_SCENE_OTHERS")
            elif follower is False:
                user.follower = False
            return replace(user)

    def user(self, appid: str, openid: str) -> User:
        """A copy of the user, or WeChat's 40003 for an openid the app never saw."""
        with self.world.lock:
            user = self._users.get((appid, openid))
            if user is None:
                raise WeChatError(40003)
            return replace(user)

    def follow(self, appid: str, openid: str | None = None) -> User:
        """A plain follow (from search or a profile card, not a QR code)."""
        with self.world.lock:
            user = self.ensure(appid, openid)
            if user.follower:
                raise ValueError(f"{user.openid} already follows {appid}")
            self.mark_follower(user, "ADD_SCENE_OTHERS")
            return replace(user)

    def unfollow(self, appid: str, openid: str) -> User:
        """The user stops following the official account."""
        with self.world.lock:
            user = self._users.get((appid, openid))
            if user is None or not user.follower:
                raise ValueError(f"{openid} does not follow {appid}")
            user.follower = False
            return replace(user)

    # -- for the other areas (lock held) ------------------------------------------------

    def ensure(self, appid: str, openid: str | None) -> User:
        """The stored user, created first if new (a fresh openid when none is given)."""
        self.world.app(appid)
        openid = openid or _new_openid()
        return self._users.setdefault((appid, openid), User(appid, openid))

    def find(self, appid: str, openid: str) -> User | None:
        """The stored user, or None."""
        return self._users.get((appid, openid))

    def live(self, appid: str, openid: str) -> User:
        """The stored user behind a code or grant the sandbox issued (so it exists)."""
        return self._users[(appid, openid)]

    def mark_follower(self, user: User, scene: str, qr: QrTicket | None = None) -> None:
        """The user follows now, from `scene` (and the QR code scanned, if any)."""
        user.follower = True
        user.subscribe_time = int(self.world.clock())
        user.subscribe_scene = scene
        user.qr_scene = (qr and qr.scene_id) or 0
        user.qr_scene_str = (qr and qr.scene_str) or ""


def _new_openid() -> str:
    return "o" + secrets.token_urlsafe(21)[:27]
