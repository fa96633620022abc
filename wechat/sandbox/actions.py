"""What a WeChat user does on the phone, as the app's servers come to know it.

Scanning a QR code, following, answering a subscribe popup, refusing a subscription or sending
a text each change the sandbox world and push the matching event to the app's callback. The
control API and tests call the same methods.
"""

from . import events
from .push import PushRecord, push_event, verify_url
from .state import SandboxState


class UserActions:
    """User actions on one sandbox world; each returns the record of the push it caused."""

    def __init__(self, state: SandboxState):
        self.state = state

    def scan(
        self,
        appid: str,
        openid: str,
        ticket: str | None = None,
        scene: str | None = None,
        wait: bool = False,
    ) -> PushRecord:
        """Scan a parametric QR code (by ticket, or the latest live ticket of a scene)."""
        qr, first_follow = self.state.scan(appid, openid, ticket=ticket, scene=scene)
        event = events.qr_scan(self.state.app(appid), openid, qr, first_follow)
        return push_event(self.state, appid, event, wait)

    def subscribe(self, appid: str, openid: str, wait: bool = False) -> PushRecord:
        """Follow the official account without a QR code."""
        self.state.follow(appid, openid)
        return push_event(self.state, appid, events.follow(self.state.app(appid), openid), wait)

    def unsubscribe(self, appid: str, openid: str, wait: bool = False) -> PushRecord:
        """Stop following the official account."""
        self.state.unfollow(appid, openid)
        return push_event(self.state, appid, events.unfollow(self.state.app(appid), openid), wait)

    def subscribe_popup(
        self, appid: str, openid: str, results: dict[str, str], scene: int = 0, wait: bool = False
    ) -> PushRecord:
        """Answer a subscribe popup: `results` maps template ids to "accept" or "reject"."""
        self.state.answer_popup(appid, openid, results)
        event = events.subscribe_popup(self.state.app(appid), openid, results, scene)
        return push_event(self.state, appid, event, wait)

    def subscribe_change(
        self, appid: str, openid: str, template_id: str, status: str = "reject", wait: bool = False
    ) -> PushRecord:
        """Set a template to "reject" in the user's notification settings."""
        if status != "reject":
            raise ValueError('WeChat only pushes "reject" changes')
        self.state.refuse_subscription(appid, openid, template_id)
        event = events.subscribe_change(self.state.app(appid), openid, template_id, status)
        return push_event(self.state, appid, event, wait)

    def text(self, appid: str, openid: str, content: str, wait: bool = False) -> PushRecord:
        """Send the app a text message (the user is created if new)."""
        user = self.state.add_user(appid, openid)
        msgid = self.state.next_message_id()
        event = events.text(self.state.app(appid), user.openid, content, msgid)
        return push_event(self.state, appid, event, wait)

    def push(self, appid: str, payload: dict, wait: bool = False) -> PushRecord:
        """Push an arbitrary payload as-is (for duplicates, odd events and hostile input)."""
        return push_event(self.state, appid, payload, wait)

    def verify(self, appid: str) -> dict:
        """WeChat's GET URL verification against the app's callback."""
        app = self.state.app(appid)
        if not app.callback_url:
            raise ValueError(f"{appid} has no callback_url")
        return verify_url(app, self.state.config.push_timeout)
