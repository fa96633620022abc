"""Organizer endpoints for message templates and notices (DESIGN §5.3)."""

from flask import Blueprint

bp = Blueprint("notices_api", __name__, url_prefix="/api/v1/org")
