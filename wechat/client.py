"""The one place wechatpy clients are built, for the official account and the mini-program.

wechatpy's own token handling is replaced: tokens come from `TokenStore` (Redis, shared,
locked), and a token error (40001/40014/42001) is retried exactly once after a
compare-and-expire — wechatpy's built-in retry recurses without bound. Every
call has a timeout, and with `WECHAT_API_BASE` set every WeChat host is rewritten to that
base at the transport level, so the real wechatpy code runs unchanged against the sandbox
or another stand-in.
"""

from urllib.parse import urlencode

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from config import Settings, WechatApp
from wechat.tokens import TokenStore

WECHAT_HOSTS = (
    "https://api.weixin.qq.com",
    "https://mp.weixin.qq.com",
    "https://open.weixin.qq.com",
)
TOKEN_ERRORS = {40001, 40014, 42001}
TIMEOUT = (3.05, 10)  # connect, read: every call has both

_clients: dict[str, "CampaignClient"] = {}


class TokenRejected(WeChatClientException):
    """WeChat refused the access token twice in a row: configuration, not bad luck."""


class WeChatTransport(HTTPAdapter):
    """Every request to WeChat gets a timeout, and goes to `base` when one is configured.

    The connection pool of a host is looked up once: requests works it out again for every
    call (URL parsed, pool key built, the CA bundle path stat'ed), a twentieth of a notice
    send's CPU, for the one or two hosts a client ever calls."""

    def __init__(self, base: str = ""):
        super().__init__(pool_maxsize=32)
        self.base = base.rstrip("/")
        self._pools: dict = {}

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        origin = "/".join(request.url.split("/", 3)[:3])  # scheme://host:port
        key = (origin, verify, cert, tuple(sorted((proxies or {}).items())))
        pool = self._pools.get(key)
        if pool is None or pool.pool is None:  # not looked up yet, or closed since
            pool = super().get_connection_with_tls_context(request, verify, proxies, cert)
            self._pools[key] = pool
        return pool

    def close(self):
        self._pools.clear()
        super().close()

    def send(self, request, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = TIMEOUT  # wechatpy's OAuth and token calls set none
        for host in WECHAT_HOSTS:
            if self.base and request.url.startswith(host + "/"):
                request.url = self.base + request.url[len(host) :]
                break
        return super().send(request, **kwargs)


def mount_transport(http: requests.Session, base: str) -> None:
    """Route a requests session's WeChat traffic through `WeChatTransport`, with the
    environment's proxy and CA bundle read once, here: requests otherwise re-reads them on
    every call, which cost a sixth of a notice send's CPU (every call goes to one base)."""
    environment = http.merge_environment_settings(base or WECHAT_HOSTS[0], {}, None, None, None)
    http.proxies.update(environment["proxies"])
    http.verify = environment["verify"]
    http.trust_env = False
    adapter = WeChatTransport(base)
    for host in WECHAT_HOSTS:
        http.mount(host + "/", adapter)
    if base:
        http.mount(base + "/", adapter)


class WeChatSession(requests.Session):
    """A requests session whose plain API calls (params, a body, headers, a timeout) go
    straight to `WeChatTransport`: the same prepared request, the same urllib3 pool and the
    same exception classes as requests' own path (the outbox's retry-or-`unknown` rule reads
    them), without the per-call settings merge, cookie jar, hooks and URL re-parsing that
    cost two fifths of a notice send's CPU. Anything else (files, streams, another adapter)
    takes requests' full path, and so does a GET answered with a redirect, which requests
    would follow; a POST's redirect is returned as it came (WeChat's API answers neither
    with redirects nor with cookies)."""

    def request(self, method, url, params=None, data=None, headers=None, json=None,
                timeout=None, allow_redirects=True, **other):  # fmt: skip
        adapter = self.get_adapter(url)
        if other or not isinstance(adapter, WeChatTransport) or self.auth or self.cookies:
            return super().request(method, url, params=params, data=data, headers=headers,
                                   json=json, timeout=timeout, allow_redirects=allow_redirects,
                                   **other)  # fmt: skip
        prepared = requests.PreparedRequest()
        prepared.method = method.upper()
        prepared.url = _with_query(url, params)
        merged = CaseInsensitiveDict(self.headers)
        merged.update(headers or {})
        prepared.prepare_headers(merged)
        prepared.prepare_body(data, None, json)
        response = adapter.send(
            prepared, timeout=timeout, verify=self.verify, cert=self.cert, proxies=self.proxies
        )
        _ = response.content  # read the body now, as requests does when not streaming
        if allow_redirects and response.is_redirect and prepared.method in ("GET", "HEAD"):
            response.close()
            return super().request(method, url, params=params, headers=headers, timeout=timeout)
        return response


def _with_query(url: str, params) -> str:
    """`url` with `params` added to its query string, as requests encodes them (a None
    value leaves its key out)."""
    pairs = [(key, value) for key, value in (params or {}).items() if value is not None]
    if not pairs:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode(pairs, doseq=True)}"


class CampaignClient(WeChatClient):
    """wechatpy's WeChatClient with shared tokens and a bounded token retry."""

    def __init__(self, app: WechatApp, redis, api_base: str = ""):
        super().__init__(app.appid, app.secret, timeout=TIMEOUT, auto_retry=False)
        self.kind = app.kind
        self._http = WeChatSession()
        mount_transport(self._http, api_base)
        self.tokens = TokenStore(redis, app.appid, app.secret, self._http, api_base)

    @property
    def access_token(self) -> str:
        return self.tokens.get()

    def fetch_access_token(self):
        return {"access_token": self.tokens.get()}

    def _request(self, method, url_or_endpoint, **kwargs):
        params = kwargs.setdefault("params", {})
        if not isinstance(params, dict) or "access_token" in params:
            return super()._request(method, url_or_endpoint, **kwargs)
        token = self.tokens.get()
        params["access_token"] = token
        try:
            return super()._request(method, url_or_endpoint, **kwargs)
        except WeChatClientException as first:
            if first.errcode not in TOKEN_ERRORS:
                raise
            params["access_token"] = self.tokens.invalidate(token)
        try:
            return super()._request(method, url_or_endpoint, **kwargs)
        except WeChatClientException as second:
            if second.errcode in TOKEN_ERRORS:
                raise TokenRejected(
                    second.errcode,
                    f"access_token rejected twice ({second.errmsg}); check the AppSecret and "
                    "that no other service fetches tokens for this AppID",
                    client=self,
                ) from second
            raise


def init_wechat(settings: Settings, redis) -> None:
    """Build both clients once per process."""
    _clients["mp"] = CampaignClient(settings.mp, redis, settings.wechat_api_base)
    _clients["wxa"] = CampaignClient(settings.wxa, redis, settings.wechat_api_base)


def mp_client() -> CampaignClient:
    """The official account's client."""
    return _clients["mp"]


def wxa_client() -> CampaignClient:
    """The mini-program's client."""
    return _clients["wxa"]
