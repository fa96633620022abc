"""Assembling the sandbox: one Flask app serving WeChat's API paths (api.weixin.qq.com,
mp.weixin.qq.com and open.weixin.qq.com, all on one port) plus the /__admin control API, and
`Sandbox`, which runs it on a loopback port on a background thread for tests and the dev stack.
"""

import threading

from flask import Flask

from . import admin, api, api_auth, api_messages, api_qr, api_security, api_users
from .actions import UserActions
from .keepalive import KeepAliveServer
from .records import Config
from .state import SandboxState

BLUEPRINTS = (api_auth, api_qr, api_messages, api_security, api_users, admin)


def make_app(state: SandboxState) -> Flask:
    """The WSGI app serving `state`."""
    app = Flask(__name__)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions[api.EXTENSION] = state
    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)
    api.install(app)
    return app


class Sandbox:
    """A running sandbox: `.state` is its world, `.actions` its users, `.url` its address."""

    def __init__(
        self, push_timeout: float = 5.0, token_grace: float = 300, token_ttl: float = 7200
    ):
        config = Config(push_timeout=push_timeout, token_grace=token_grace, token_ttl=token_ttl)
        self.state = SandboxState(config)
        self.actions = UserActions(self.state)
        self._server: KeepAliveServer | None = None
        self._thread: threading.Thread | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> "Sandbox":
        """Listen on host:port (0 picks a free port) and serve on a daemon thread."""
        self._server = KeepAliveServer((host, port), make_app(self.state))
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="wechat-sandbox", daemon=True
        )
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        """The base URL standing for all of WeChat's API hosts, e.g. http://127.0.0.1:54321."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join()

    def __enter__(self) -> "Sandbox":
        return self if self._server else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
