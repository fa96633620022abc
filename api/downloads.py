"""Documents generated in the request (forms, exports) as downloads with Chinese file names."""

from urllib.parse import quote

from flask import Response

from campaign.channel_codes import MIME_BY_EXTENSION

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def document(content: bytes, name: str, fallback: str) -> Response:
    """`content` as an attachment named `name` (RFC 6266: ASCII `fallback` for old clients)."""
    extension = fallback.rsplit(".", 1)[-1]
    mime = XLSX_MIME if extension == "xlsx" else MIME_BY_EXTENSION[extension]
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
    return Response(
        content,
        mimetype=mime,
        headers={"Content-Disposition": disposition, "Cache-Control": "private, no-store"},
    )
