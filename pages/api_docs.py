"""`/openapi.json` and `/docs/api`: the API contract, machine- and human-readable.

`/docs/api` shows it with Redoc (vendored under `pages/static/vendor/`, no CDN);
`/docs/api/summary` is a plain page for readers without JavaScript.
The document is written by hand in `api/openapi.yaml` (it is the contract with the
mini-program, not a by-product of the code); tests keep it and the routes in step.
"""

from functools import cache
from pathlib import Path

import yaml
from flask import Blueprint, jsonify, make_response, render_template

SPEC = Path(__file__).resolve().parent.parent / "api" / "openapi.yaml"
METHODS = ("get", "post", "put", "patch", "delete")

REDOC_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)

bp = Blueprint(
    "api_docs",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/docs/static",
)


@cache
def openapi() -> dict:
    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(openapi())


@bp.get("/docs/api")
def api_page():
    """The whole document (every path, schema and error code) in Redoc, served from here;
    the policy keeps the page from loading anything from elsewhere (Redoc's own footer logo
    on a CDN included)."""
    response = make_response(render_template("docs/redoc.html", spec=openapi()))
    response.headers["Content-Security-Policy"] = REDOC_POLICY
    return response


@bp.get("/docs/api/summary")
def api_summary():
    """A plain one-page summary, for readers without JavaScript."""
    spec = openapi()
    operations = [
        {"method": method.upper(), "path": path, **operation}
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
    groups = {tag["name"]: (tag, []) for tag in spec.get("tags", [])}
    for operation in operations:
        groups[operation.get("tags", ["operations"])[0]][1].append(operation)
    return render_template("docs/api.html", spec=spec, groups=groups.values())
