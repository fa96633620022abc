"""Stored files as HTTP responses: one way to send them, one Content-Disposition.

With a shared bucket (S3Storage) the client is redirected to a signed link that expires in
minutes; with the local folder nginx sends the bytes in production (`X-Accel-Redirect` to
its internal `/_protected/` location) and Flask streams them in development. Every stored
file goes out with `nosniff` and a sandboxing CSP, so an SVG or an HTML-looking upload can
never run as a page of this site.
"""

import re
from urllib.parse import quote

from flask import Response, redirect, send_file

from campaign.channels.assets import MIME_BY_EXTENSION
from campaign.problems import NotFound
from config import current_settings
from storage import StorageError, get_storage

SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Cache-Control": "private, no-store",
}


def content_disposition(name: str, fallback: str, inline: bool = False) -> str:
    """RFC 6266, with an ASCII `filename` and the UTF-8 `filename*` (RFC 8187)."""
    ascii_name = name if name.isascii() and name.isprintable() else fallback
    ascii_name = re.sub(r'["\\]', "_", ascii_name)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def stored_file(key: str, mime: str, name: str, fallback: str, disposition="attachment"):
    """The stored file `key` as a response (`disposition`: attachment, inline, or None for
    neither); 404 `file_missing` when storage lost it."""
    headers = {**SAFE_HEADERS}
    if disposition:
        inline = disposition == "inline"
        headers["Content-Disposition"] = content_disposition(name, fallback, inline=inline)
    url = get_storage().signed_url(key, mime, headers.get("Content-Disposition"))
    if url:  # a shared bucket: the client fetches it there, with a link that soon expires
        response = redirect(url, code=302)
        response.headers["Cache-Control"] = "private, no-store"
        return response
    if current_settings().production:
        response = Response(mimetype=mime, headers=headers)
        response.headers["X-Accel-Redirect"] = "/_protected/" + quote(key)
        return response
    try:
        stream = get_storage().open(key)
    except StorageError:
        raise NotFound("file_missing", "文件不存在或已被删除") from None
    response = send_file(stream, mimetype=mime)
    response.headers.update(headers)
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def document(content: bytes, name: str, fallback: str, mime: str | None = None) -> Response:
    """Bytes made for this request (an export, a form, a template) as a download named
    `name` (Chinese is fine; `fallback` is the ASCII name for old clients). The type follows
    the fallback's extension unless given."""
    extension = fallback.rsplit(".", 1)[-1]
    mime = mime or (XLSX if extension == "xlsx" else MIME_BY_EXTENSION[extension])
    return Response(
        content,
        mimetype=mime,
        headers={
            "Content-Disposition": content_disposition(name, fallback),
            "Cache-Control": "private, no-store",
        },
    )
