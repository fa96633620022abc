"""`/console/…`: one parent blueprint holding the cookie session, CSRF and headers
(`pages.websession`), the vendored assets, and each area's pages as a child blueprint."""

from flask import Blueprint

from pages import websession
from pages.console import (
    accounts,
    audit,
    auth,
    casebook,
    dashboard,
    departments,
    dept,
    entries,
    exchange,
    expert,
    jobs,
    mailroom,
    notices,
    objections,
    publication,
    review_board,
    review_people,
    review_runs,
    settings,
    units,
)
from pages.console.layout import setup

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="../templates",
    static_folder="../static",
    static_url_path="/static",
)
websession.install(bp, prefix="console", path="/console")
setup(bp)
AREAS = (
    auth,
    dashboard,
    entries,
    units,
    departments,
    notices,
    mailroom,
    exchange,
    publication,
    objections,
    casebook,
    review_board,
    review_people,
    review_runs,
    settings,
    audit,
    accounts,
    jobs,
    dept,
    expert,
)
for area in AREAS:
    bp.register_blueprint(area.bp)
