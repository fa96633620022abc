"""`/q/<code>`: the plain-link QR landing — record the scan, redirect."""

from flask import Blueprint

bp = Blueprint("qr_landing", __name__)
