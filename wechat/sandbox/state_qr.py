"""QR tickets: parametric QR codes of official accounts, and the scans that make followers.

Behind api_qr.py and `UserActions.scan`. Temporary tickets expire; a permanent scene is minted
once per app (asking again returns its first ticket) and counts against `permanent_qr_limit`.
"""

import base64
import secrets

from .errors import WeChatError
from .records import QrTicket
from .state_area import Area


class QrState(Area):
    """Every ticket issued, and the permanent scenes minted per app."""

    def clear(self) -> None:
        """Forget every ticket (lock held)."""
        self._tickets: dict[str, QrTicket] = {}
        self._permanent: dict[str, dict[tuple[int | None, str | None], QrTicket]] = {}

    def summary(self) -> dict:
        """The ticket count for `GET /__admin/state` (lock held)."""
        return {"tickets": len(self._tickets)}

    def create_ticket(
        self,
        appid: str,
        action_name: str,
        scene_id: int | None = None,
        scene_str: str | None = None,
        expire_seconds: int | None = None,
    ) -> QrTicket:
        """A new ticket; a permanent scene minted before gets its old ticket back."""
        permanent = action_name.startswith("QR_LIMIT_")
        with self.world.lock:
            minted = self._permanent.setdefault(appid, {})
            if permanent and (scene_id, scene_str) in minted:
                return minted[(scene_id, scene_str)]
            if permanent and len(minted) >= self.world.config.permanent_qr_limit:
                raise WeChatError(45029)
            expires_at = None if permanent else self.world.clock() + expire_seconds
            qr = QrTicket(
                _new_ticket(), appid, action_name, scene_id, scene_str, _new_qr_url(), expires_at
            )
            self._tickets[qr.ticket] = qr
            if permanent:
                minted[(scene_id, scene_str)] = qr
            return qr

    def ticket(self, ticket: str) -> QrTicket | None:
        """The ticket, unless it is unknown or expired."""
        with self.world.lock:
            qr = self._tickets.get(ticket)
            if qr is None or (qr.expires_at is not None and self.world.clock() >= qr.expires_at):
                return None
            return qr

    def scan(
        self, appid: str, openid: str, ticket: str | None = None, scene: str | None = None
    ) -> tuple[QrTicket, bool]:
        """A user scans a QR code: (the ticket, whether the scan made them follow)."""
        with self.world.lock:
            qr = self._scanned_ticket(appid, ticket, scene)
            user = self.world.users.ensure(appid, openid)
            first_follow = not user.follower
            if first_follow:
                self.world.users.mark_follower(user, "ADD_SCENE_QR_CODE", qr)
            return qr, first_follow

    # -- internals (lock held) ----------------------------------------------------------

    def _scanned_ticket(self, appid: str, ticket: str | None, scene: str | None) -> QrTicket:
        if ticket is not None:
            qr = self.ticket(ticket)
        elif scene is not None:
            qr = self._latest_ticket(appid, str(scene))
        else:
            raise ValueError("a scan needs a ticket or a scene")
        if qr is None or qr.appid != appid:
            raise LookupError(f"no live QR ticket of {appid} for {ticket or scene}")
        return qr

    def _latest_ticket(self, appid: str, scene: str) -> QrTicket | None:
        for qr in reversed(self._tickets.values()):
            if qr.appid == appid and qr.scene == scene and self.ticket(qr.ticket):
                return qr
        return None


def _new_ticket() -> str:
    """Real tickets are base64 with "+", "/" and "=", so callers must URL-encode them."""
    return "gQ" + base64.b64encode(secrets.token_bytes(60)).decode()


def _new_qr_url() -> str:
    return "http://weixin.qq.com/q/" + secrets.token_urlsafe(16)
