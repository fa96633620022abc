"""`POST /api/v1/subscriptions`: what the user answered in the subscribe popup."""

from flask import Blueprint

bp = Blueprint("subscriptions_api", __name__, url_prefix="/api/v1")
