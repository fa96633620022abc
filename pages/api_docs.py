"""`/openapi.json` and `/docs/api`: the API contract, machine- and human-readable.

The document is written by hand in `api/openapi.yaml` (it is the contract with the
mini-program, not a by-product of the code); tests keep it and the routes in step.
"""

from functools import cache
from pathlib import Path

import yaml
from flask import Blueprint, jsonify, render_template

SPEC = Path(__file__).resolve().parent.parent / "api" / "openapi.yaml"
METHODS = ("get", "post", "put", "patch", "delete")

bp = Blueprint("api_docs", __name__, template_folder="templates")


@cache
def openapi() -> dict:
    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(openapi())


@bp.get("/docs/api")
def api_page():
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
