"""Templates and grants: subscribe-message and template-message templates, the credits a user
grants by accepting a subscribe popup, and the sends that check and spend them.

Behind api_messages.py and `UserActions.subscribe_popup` / `subscribe_change`. A one-time
template's credit is spent by each send; a long-term one stays granted until refused.
"""

import itertools
from collections import Counter
from collections.abc import Iterable

from . import keywords
from .errors import WeChatError
from .records import Template
from .state_area import Area

POPUP_ANSWERS = ("accept", "reject")


class MessageState(Area):
    """Templates per app, credits per (app, user, template), and every successful send."""

    def clear(self) -> None:
        """Forget every template, credit and send; the message ids start over (lock held)."""
        self._templates: dict[tuple[str, str], Template] = {}
        self._credits: Counter[tuple[str, str, str]] = Counter()
        self._sends: list[dict] = []
        self._msgids = itertools.count(2_000_000_001)
        self._message_ids = itertools.count(24_000_000_000_000_001)

    def summary(self) -> dict:
        """The template and send counts for `GET /__admin/state` (lock held)."""
        return {"templates": len(self._templates), "sends": len(self._sends)}

    def add_template(
        self, appid: str, template_id: str, keys: dict[str, str], long_term: bool = False
    ) -> Template:
        """Register a template; `keys` maps each keyword (thing1, time2, ...) to its type."""
        if not isinstance(keys, dict):
            raise ValueError("keys must map keyword names to types")
        unknown = set(keys.values()) - set(keywords.RULES)
        if unknown:
            raise ValueError(f"unknown keyword types: {sorted(unknown)}")
        with self.world.lock:
            self.world.app(appid)
            template = Template(appid, template_id, dict(keys), bool(long_term))
            self._templates[(appid, template_id)] = template
            return template

    def answer_popup(self, appid: str, openid: str, results: dict[str, str]) -> None:
        """The user answers a subscribe popup: each "accept" adds one credit for its template."""
        if not isinstance(results, dict) or not set(results.values()) <= set(POPUP_ANSWERS):
            raise ValueError(f"popup answers must be one of {POPUP_ANSWERS}")
        with self.world.lock:
            self._known_templates(appid, results)
            user = self.world.users.ensure(appid, openid)
            for template_id, answer in results.items():
                if answer == "accept":
                    self._credits[(appid, user.openid, template_id)] += 1

    def refuse_subscription(self, appid: str, openid: str, template_id: str) -> None:
        """The user sets a template to "reject" in their settings: no credit is left."""
        with self.world.lock:
            self._known_templates(appid, [template_id])
            if self.world.users.find(appid, openid) is None:
                raise LookupError(f"unknown user {openid}")
            self._credits[(appid, openid, template_id)] = 0

    def credits(self, appid: str, openid: str, template_id: str) -> int:
        """Sends left for the user and template (for long-term ones: >0 means subscribed)."""
        with self.world.lock:
            return self._credits[(appid, openid, template_id)]

    def send(
        self,
        appid: str,
        openid: str,
        template_id: str,
        data: dict,
        api: str,
        require_credit: bool = False,
        require_follower: bool = False,
    ) -> int:
        """Check and record one message send; returns its msgid."""
        with self.world.changing():
            user = self.world.users.find(appid, openid)
            if user is None:
                raise WeChatError(40003)
            template = self._templates.get((appid, template_id))
            if template is None:
                raise WeChatError(40037)
            bad_key = keywords.invalid_key(template.keys, data)
            if bad_key:
                raise WeChatError(47003, f"argument invalid! data.{bad_key}.value invalid")
            if require_follower and not user.follower:
                raise WeChatError(43004)
            if require_credit:
                self._spend_credit(template, openid)
            msgid = next(self._msgids)
            self._sends.append(
                {
                    "appid": appid,
                    "openid": openid,
                    "template_id": template_id,
                    "msgid": msgid,
                    "data": data,
                    "api": api,
                    "at": self.world.clock(),
                }
            )
            return msgid

    def sends(self) -> list[dict]:
        """Every successful message send, oldest first."""
        with self.world.lock:
            return list(self._sends)

    def next_message_id(self) -> int:
        """A MsgId for a user's message to the app."""
        with self.world.lock:
            return next(self._message_ids)

    # -- internals (lock held) ----------------------------------------------------------

    def _known_templates(self, appid: str, template_ids: Iterable[str]) -> None:
        for template_id in template_ids:
            if (appid, template_id) not in self._templates:
                raise LookupError(f"unknown template {template_id} of {appid}")

    def _spend_credit(self, template: Template, openid: str) -> None:
        key = (template.appid, openid, template.template_id)
        if self._credits[key] < 1:
            raise WeChatError(43101)
        if not template.long_term:
            self._credits[key] -= 1
