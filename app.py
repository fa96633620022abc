"""The only place the Flask application is assembled. `app` is what gunicorn serves."""

from flask import Flask
from flask.sessions import SessionInterface
from werkzeug.routing import IntegerConverter

import runtime
from api import errors, evidence_view, health, payload, request_hooks
from api.console import auth as console_auth
from api.dept import department
from api.dept import entries as dept_entries
from api.expert import reviews as expert_reviews
from api.org import (
    attribution,
    channels,
    department_access,
    departments,
    funnels,
    kits,
    notices,
    reminders,
    templates,
)
from api.org import audit as org_audit
from api.org import board as org_board
from api.org import campaign_settings as org_campaign_settings
from api.org import casebook as org_casebook
from api.org import decisions as org_decisions
from api.org import entries as org_entries
from api.org import evidence as org_evidence
from api.org import exchange as org_exchange
from api.org import experts as org_experts
from api.org import exports as org_exports
from api.org import mailin as org_mailin
from api.org import publications as org_publications
from api.org import redeem as org_redeem
from api.org import review as org_review
from api.org import units as org_units
from api.public import publications as public_publications
from api.unit import attachments, auth, entries, subscriptions, text, touches, units
from api.unit import campaign as campaign_api
from api.unit import exchange as unit_exchange
from api.unit import mailin as unit_mailin
from commands import account_commands, campaign_commands, db_commands
from config import Settings
from pages import api_docs, h5, media, oauth, qr, wechat_callbacks
from pages import publication as publication_pages
from pages import tickets as ticket_pages
from pages.console import site as console_site
from privacy_commands import privacy_commands

BLUEPRINTS = (
    errors.bp,
    request_hooks.bp,
    health.bp,
    # /api/v1: the mini-program and H5 (units)
    campaign_api.bp,
    text.bp,
    auth.bp,
    units.bp,
    entries.bp,
    attachments.bp,
    touches.bp,
    subscriptions.bp,
    # /api/v1/dept, /api/v1/console, /api/v1/org
    department.bp,
    console_auth.bp,
    org_entries.bp,
    departments.bp,
    channels.bp,
    kits.bp,
    attribution.bp,
    funnels.bp,
    templates.bp,
    notices.bp,
    reminders.bp,
    # pages: WeChat's callbacks and OAuth, H5, /q/, /media, API docs
    wechat_callbacks.bp,
    oauth.bp,
    h5.bp,
    qr.bp,
    media.bp,
    api_docs.bp,
    console_site.bp,
    org_publications.bp,
    public_publications.bp,
    publication_pages.bp,
    org_redeem.bp,
    org_exchange.bp,
    unit_exchange.bp,
    ticket_pages.bp,
    org_experts.bp,
    org_review.bp,
    org_board.bp,
    org_decisions.bp,
    expert_reviews.bp,
    unit_mailin.bp,
    org_mailin.bp,
    org_casebook.bp,
    evidence_view.bp,
    dept_entries.bp,
    department_access.bp,
    org_evidence.bp,
    org_audit.bp,
    org_units.bp,
    org_exports.bp,
    org_campaign_settings.bp,
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
