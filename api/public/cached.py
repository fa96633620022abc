"""Serving a cached public response: ETag, `Cache-Control`, 304 on a matching If-None-Match."""

from flask import Response, request

from tasks.publication_cache import Cached

CACHE_CONTROL = "public, max-age=60"


def cached_response(cached: Cached) -> Response:
    headers = {"ETag": f'"{cached.etag}"', "Cache-Control": CACHE_CONTROL}
    if cached.status == 200 and request.if_none_match.contains(cached.etag):
        return Response(status=304, headers=headers)
    return Response(cached.body, status=cached.status, mimetype=cached.mimetype, headers=headers)
