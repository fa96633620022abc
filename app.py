"""The only place the Flask application is assembled. `app` is what gunicorn serves."""

from flask import Flask
from flask.sessions import SessionInterface
from werkzeug.routing import IntegerConverter

import runtime
from api import (
    attachments,
    auth,
    channels,
    console_auth,
    department_access,
    departments,
    entries,
    errors,
    health,
    notices,
    oauth,
    org_entries,
    payload,
    subscriptions,
    text,
    touches,
    units,
    wechat_callbacks,
)
from api import campaign as campaign_api
from commands import account_commands, campaign_commands, db_commands
from config import Settings
from pages import api_docs, h5, media, qr
from privacy_commands import privacy_commands

BLUEPRINTS = (
    errors.bp,
    health.bp,
    campaign_api.bp,
    text.bp,
    auth.bp,
    console_auth.bp,
    units.bp,
    entries.bp,
    attachments.bp,
    departments.bp,
    touches.bp,
    wechat_callbacks.bp,
    oauth.bp,
    h5.bp,
    qr.bp,
    media.bp,
    org_entries.bp,
    api_docs.bp,
    channels.bp,
    notices.bp,
    subscriptions.bp,
    department_access.bp,
    db_commands,
    campaign_commands,
    account_commands,
    privacy_commands,
)


class RowId(IntegerConverter):
    """`<int:…>` in every route stops at the largest row id, so `/entries/99…9` is a 404,
    not a database overflow."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


class NoSessions(SessionInterface):
    """No cookie sessions: the API authenticates with bearer tokens, so skip the work."""

    def open_session(self, app, request):
        return None

    def save_session(self, app, session, response):
        return None


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app: settings and connections first, then blueprints."""
    settings = runtime.bootstrap(settings)
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        JSON_SORT_KEYS=False,
        SETTINGS=settings,
    )
    app.session_interface = NoSessions()
    app.url_map.converters["int"] = RowId
    payload.install(app)  # strict JSON bodies: no surrogates, NUL, deep nesting (issue 11)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app


def __getattr__(name: str):
    """`app:app` for gunicorn and `flask --app app`, built on first access, not on import."""
    if name == "app":
        globals()["app"] = application = create_app()
        return application
    raise AttributeError(name)
