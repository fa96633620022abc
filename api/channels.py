"""Organizer endpoints for departments, channels, QR kits and funnels (DESIGN §5.1, §6)."""

from flask import Blueprint

bp = Blueprint("channels_api", __name__, url_prefix="/api/v1/org")
