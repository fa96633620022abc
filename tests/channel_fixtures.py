"""Helpers shared by the channel, QR-code and funnel tests.

An organizer calling the API through Flask's client, the user agents of WeChat and of
another browser, and a QR decoder (zxing-cpp) so tests read codes the way a phone does.
"""

import io

import zxingcpp
from PIL import Image

from campaign.accounts import create_account
from campaign.sessions import issue_token

WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI"
)
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


class Organizer:
    """A signed-in organizer; `get`, `post`, … go through Flask's client with the token."""

    def __init__(self, client, campaign, username: str = "organizer-ch"):
        self.client = client
        self.account = create_account(
            username, "organizer-password", "organizer", "组织者", campaign
        )
        self.token, _ = issue_token(self.account)

    def __getattr__(self, method):
        def call(path, **kwargs):
            headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
            response = getattr(self.client, method)(path, headers=headers, **kwargs)
            response.get_data()  # read streamed files whole, then close them
            response.close()
            return response

        return call

    def department(self, name: str, route: str = "org_dept", **fields) -> dict:
        """Create a department through the API; its detail (with its first channel)."""
        response = self.post(
            "/api/v1/org/departments", json={"name": name, "route": route, **fields}
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()


def persist_scans() -> None:
    """Send this process's waiting scans to Redis, then run the periodic job that stores them."""
    from tasks.scans import flush_scans
    from tasks.touches import flush_touches

    flush_scans()
    flush_touches()


def decode_qr(image_bytes: bytes) -> list[str]:
    """Every QR code's text in an image, as a phone's scanner would read it."""
    image = Image.open(io.BytesIO(image_bytes))
    return [result.text for result in zxingcpp.read_barcodes(image)]


def error_code(response) -> str:
    return response.get_json()["error"]["code"]
