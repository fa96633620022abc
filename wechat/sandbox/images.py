"""Real images for the QR endpoints, drawn with the `qrcode` library.

Code that stores or serves these images then handles genuine PNG and JPEG bytes, and must tell
them from the JSON WeChat sends back on errors.
"""

import io

import qrcode

WXACODE_MIN_WIDTH = 280
WXACODE_MAX_WIDTH = 1280


def qr_png(text: str) -> bytes:
    """A PNG QR code of `text` (showqrcode draws the ticket's url)."""
    buffer = io.BytesIO()
    qrcode.make(text).save(buffer)
    return buffer.getvalue()


def wxacode_jpeg(text: str, width: int) -> bytes:
    """A square JPEG QR code of `text`, `width` pixels wide within WeChat's 280-1280."""
    side = min(max(width, WXACODE_MIN_WIDTH), WXACODE_MAX_WIDTH)
    image = qrcode.make(text).get_image().convert("RGB").resize((side, side))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return buffer.getvalue()
