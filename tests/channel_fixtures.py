"""Helpers shared by the channel, QR-code and funnel tests.

An organizer calling the API through Flask's client, the user agents of WeChat and of
another browser, and a QR decoder (zxing-cpp) so tests read codes the way a phone does.
"""

import io

import zxingcpp
from PIL import Image

WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI"
)
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


def persist_scans() -> None:
    """Send this process's waiting scans to Redis, then run the periodic job that stores them."""
    from pages.scan_buffer import flush_scans
    from tasks.touches import flush_touches

    flush_scans()
    flush_touches()


def decode_qr(image_bytes: bytes) -> list[str]:
    """Every QR code's text in an image, as a phone's scanner would read it."""
    image = Image.open(io.BytesIO(image_bytes))
    return [result.text for result in zxingcpp.read_barcodes(image)]


def error_code(response) -> str:
    return response.get_json()["error"]["code"]
