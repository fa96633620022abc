"""The baseline: a bare Flask app with one "hello" route (and /healthz, for start-up checks)."""

from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello():
    return "hello"


@app.get("/healthz")
def healthz():
    return "ok"
