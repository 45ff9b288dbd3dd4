"""One kept-alive HTTP session per provider for Apprise's plugins (notify/apprise_channel.py).

Apprise's plugins call `requests.post()` (or `get`, `put`, `request`) for every message, and each
such call opens a session of its own: a new TCP connection, and against a real provider a new
TLS handshake, per message. Inside `through(session)` those calls made on this thread go through
`session` instead, so the sends of one channel share its pooled connections. Outside it, and in
every other thread, `requests` behaves as it always does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
import requests.api
from requests.adapters import HTTPAdapter

_current: ContextVar[requests.Session | None] = ContextVar("konenut_keepalive", default=None)
_plain_request = requests.api.request


def _request(method: str, url: str | bytes, **kwargs: Any) -> requests.Response:
    """`requests.request`, through the session of the `through` block this thread is in."""
    session = _current.get()
    if session is None:
        return _plain_request(method, url, **kwargs)
    return session.request(method=method, url=url, **kwargs)


def new_session(pool_size: int) -> requests.Session:
    """A session keeping up to `pool_size` connections per host, as many as sends in flight.

    It keeps no cookie, as the one-off session of a plain `requests.post()` keeps none."""
    session = requests.Session()
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
