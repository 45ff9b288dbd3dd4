"""One kept-alive HTTP session per provider for Apprise's plugins (notify/apprise_channel.py).

Apprise's plugins call `requests.post()` (or `get`, `put`, `request`) for every message, and each
such call opens a session of its own: a new TCP connection, and against a real provider a new
TLS handshake, per message. Inside `through(session)` those calls made on this thread go through
`session` instead, so the sends of one channel share its pooled connections. Outside it, and in
every other thread, `requests` behaves as it always does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.api
from requests.adapters import HTTPAdapter
from requests.sessions import merge_setting
from requests.utils import get_environ_proxies

_current: ContextVar[requests.Session | None] = ContextVar("konenut_keepalive", default=None)
_plain_request = requests.api.request
# A channel talks to one provider or a few (its API's hosts): more origins than this are
# forgotten and read again, so a template with the address in the host cannot grow it unbounded.
MAX_ORIGINS = 256


def _request(method: str, url: str | bytes, **kwargs: Any) -> requests.Response:
    """`requests.request`, through the session of the `through` block this thread is in."""
    session = _current.get()
    if session is None:
        return _plain_request(method, url, **kwargs)
    return session.request(method=method, url=url, **kwargs)


class ProviderSession(requests.Session):
    """A session that reads the proxy settings of the environment (HTTPS_PROXY, NO_PROXY, ...)
    once per origin: requests reads the whole environment again for every request otherwise
    (0.15-0.3 ms of CPU per request on a 2-core box, a tenth of a send on loopback)."""

    def __init__(self) -> None:
        super().__init__()
        self._environ_proxies: dict[tuple[str, str, str | None], dict[str, str]] = {}

    def merge_environment_settings(
        self,
        url: str,
        proxies: dict[str, str] | None,
        stream: bool | None,
        verify: Any,
        cert: Any,
    ) -> dict[str, Any]:
        """`requests.Session.merge_environment_settings`, with the environment's proxies for
        this origin read once."""
        if not self.trust_env:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        no_proxy = proxies.get("no_proxy") if proxies is not None else None
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, no_proxy)
        environ_proxies = self._environ_proxies.get(key)
        if environ_proxies is None:
            if len(self._environ_proxies) >= MAX_ORIGINS:
                self._environ_proxies.clear()
            environ_proxies = self._environ_proxies[key] = get_environ_proxies(url, no_proxy)
        if proxies is not None:
            for scheme, proxy in environ_proxies.items():
                proxies.setdefault(scheme, proxy)
        if verify is True or verify is None:
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            verify = bundle or verify
        return {
            "proxies": merge_setting(proxies, self.proxies),
            "stream": merge_setting(stream, self.stream),
            "verify": merge_setting(verify, self.verify),
            "cert": merge_setting(cert, self.cert),
        }


def new_session(pool_size: int) -> requests.Session:
    """A session keeping up to `pool_size` connections per host, as many as sends in flight.

    It keeps no cookie, as the one-off session of a plain `requests.post()` keeps none."""
    session = ProviderSession()
    adapter = HTTPAdapter(pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return session


@contextmanager
def through(session: requests.Session) -> Iterator[None]:
    """Within this block, this thread's `requests` calls use `session`."""
    token = _current.set(session)
    try:
        yield
    finally:
        _current.reset(token)


# `requests.post()` and the other shortcuts call `requests.api.request`; plugins also call
# `requests.request` (the same function, bound in the package at import): both come here.
requests.api.request = _request
requests.request = _request
