"""Serving a cached public response: ETag, `Cache-Control`, gzip, 304 on If-None-Match.

`CachedPaths` answers the hottest public paths (the list page and its JSON) straight from the
process's memory, before Flask routes the request: a shared list's traffic then costs about what
a bare "hello" does. Anything not in memory (first request, after a change, an unknown path)
goes on to Flask as usual, which builds and caches it.
"""

import os
import re

from flask import Response, request
from werkzeug.http import parse_etags

from tasks import publication_cache
from tasks.publication_cache import Cached

CACHE_CONTROL = "public, max-age=60"
FAST_PATHS = re.compile(r"^/(?:p/(\d+)?|api/v1/publications/(current|\d+))$")


def representation(cached: Cached, accept_encoding: str, if_none_match: str | None):
    """(status, headers, body) of a cached response for this request's headers."""
    zipped = bool(cached.gzipped) and "gzip" in accept_encoding
    etag = f"{cached.etag}-gz" if zipped else cached.etag
    headers = [
        ("ETag", f'"{etag}"'),
        ("Cache-Control", CACHE_CONTROL),
        ("Vary", "Accept-Encoding"),
    ]
    if cached.status == 200 and if_none_match and parse_etags(if_none_match).contains(etag):
        return 304, headers, b""
    headers.append(("Content-Type", cached.mimetype))
    if zipped:
        headers.append(("Content-Encoding", "gzip"))
    return cached.status, headers, cached.gzipped if zipped else cached.body


def cached_response(cached: Cached) -> Response:
    status, headers, body = representation(
        cached, request.headers.get("Accept-Encoding", ""), request.headers.get("If-None-Match")
    )
    response = Response(body, status=status, headers=headers)
    if status == 304:
        response.headers.pop("Content-Type", None)
    return response


def cache_key(path: str) -> str | None:
    """The cache key a fast path serves (`page:current`, `json:12`, …), or None."""
    match = FAST_PATHS.match(path)
    if match is None:
        return None
    page, api = match.groups()
    if api is not None:
        return f"json:{api}"
    return f"page:{page}" if page else "page:current"


STATUS_LINES = {200: "200 OK", 304: "304 Not Modified", 404: "404 NOT FOUND"}


class CachedPaths:
    """WSGI middleware: GET/HEAD of a public list path whose response is in memory."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD") and not environ.get("QUERY_STRING"):
            key = cache_key(environ.get("PATH_INFO", ""))
            cached = publication_cache.peek(key) if key else None
            if cached is not None and cached.status in STATUS_LINES:
                status, headers, body = representation(
                    cached,
                    environ.get("HTTP_ACCEPT_ENCODING", ""),
                    environ.get("HTTP_IF_NONE_MATCH"),
                )
                incoming = environ.get("HTTP_X_REQUEST_ID", "")
                request_id = incoming if re.fullmatch(r"[\w.-]{1,64}", incoming) else None
                headers.append(("X-Request-Id", request_id or os.urandom(8).hex()))
                headers.append(("Content-Length", str(len(body))))
                start_response(STATUS_LINES[status], headers)
                return [b""] if environ["REQUEST_METHOD"] == "HEAD" else [body]
        return self.wsgi_app(environ, start_response)
