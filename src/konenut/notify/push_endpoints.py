"""Where Web Push may go: https endpoints on public addresses, or allow-listed push services."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, IPv6Network, ip_address
from urllib.parse import SplitResult, urlsplit

import requests
from requests.adapters import DEFAULT_POOLSIZE, HTTPAdapter
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError

HTTPS_PORT = 443
# Resolving a name waits on the network (seconds while a resolver is down): subscriptions are
# checked on their own few threads, so a flood of them cannot hold the default pool's threads,
# which read the log for the live stream.
RESOLVER_THREADS = 4
_RESOLVERS = ThreadPoolExecutor(max_workers=RESOLVER_THREADS, thread_name_prefix="konenut-resolve")
# NAT64's well-known prefix (RFC 6052) carries an IPv4 address in its last 32 bits.
NAT64_PREFIX = IPv6Network("64:ff9b::/96")


def is_public(address: str) -> bool:
    """A globally routable unicast address: not loopback, private, link-local, shared (CGNAT),
    reserved or multicast, nor an IPv6 form of one of those (mapped, 6to4, Teredo, NAT64)."""
    ip = ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        return is_public(str(embedded))
    return ip.is_global and not ip.is_multicast


def _embedded_ipv4(ip: IPv4Address | IPv6Address) -> IPv4Address | None:
    if isinstance(ip, IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64_PREFIX:
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


@dataclass(frozen=True)
class Refusal:
    """Why the server will not send to an endpoint; `lasting` unless the name did not resolve
    (a DNS outage must not cost a phone its subscription)."""

    reason: str
    lasting: bool = True


@dataclass(frozen=True)
class AllowedOrigin:
    """One allow-list entry, `[scheme://]host[:port]`: the scheme defaults to https; with no
    port, any port of that host."""

    scheme: str
    host: str
    port: int | None = None

    @classmethod
    def parse(cls, entry: str) -> AllowedOrigin:
        text = entry.strip()
        parts = urlsplit(text if "://" in text else f"https://{text}")
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.path:
            raise ValueError(f"push allow-list entry {entry!r} is not [scheme://]host[:port]")
        return cls(parts.scheme, parts.hostname, parts.port)

    def matches(self, parts: SplitResult) -> bool:
        port_matches = self.port is None or self.port == parts.port
        return parts.scheme == self.scheme and parts.hostname == self.host and port_matches


class PushEndpointPolicy:
    """Which push endpoints are accepted (at subscription) and reached (at every send). A
    subscription is written by a phone: unchecked, a resident could make the server POST into
    its own network (SSRF)."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.allowed = tuple(AllowedOrigin.parse(entry) for entry in allowed)

    def allow_listed(self, endpoint: str) -> bool:
        parts = urlsplit(endpoint)
        return any(origin.matches(parts) for origin in self.allowed)

    def refusal(self, endpoint: str) -> Refusal | None:
        """Why the server must not send to this endpoint, or None. Resolves its host (blocking:
        run it off the event loop). The reason never names an address the host resolved to."""
        try:
            parts = urlsplit(endpoint)
            port = parts.port or HTTPS_PORT
        except ValueError:
            return Refusal("the push endpoint is not a URL")
        if not parts.hostname:
            return Refusal("the push endpoint has no host")
        if self.allow_listed(endpoint):
            return None
        if parts.scheme != "https":
            return Refusal("a push endpoint must be an https:// URL")
        try:
            found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
        except (OSError, ValueError):  # gaierror; a name IDNA or the resolver cannot take
            return Refusal(f"the push service {parts.hostname} cannot be found", lasting=False)
        if not all(is_public(str(info[4][0])) for info in found):
            return Refusal(f"the push service {parts.hostname} is not on a public address")
        return None

    async def refusal_off_loop(self, endpoint: str) -> Refusal | None:
        """`refusal` for a request handler: on the resolver threads, never on the event loop."""
        return await asyncio.get_running_loop().run_in_executor(_RESOLVERS, self.refusal, endpoint)

    def session(self, endpoint: str, pool_size: int = DEFAULT_POOLSIZE) -> requests.Session:
        """A session for sends to endpoints like this one: no redirects, no proxy from the
        environment; unless the endpoint is allow-listed, every connection it opens is checked
        again where it lands (a name may resolve to a public address for the check and a private
        one for the connection). It keeps up to `pool_size` connections per push service."""
        session = requests.Session()
        session.max_redirects = 0  # a redirect could point anywhere: it fails the send
        session.trust_env = False
        if self.allow_listed(endpoint):
            adapter = HTTPAdapter(pool_maxsize=pool_size)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        else:
            session.mount("https://", _PublicOnlyAdapter(pool_maxsize=pool_size))
        return session


class _PublicOnlyConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        if not is_public(str(sock.getpeername()[0])):
            sock.close()
            raise NewConnectionError(self, f"{self.host} is not on a public address")
        return sock


class _PublicOnlyPool(HTTPSConnectionPool):
    ConnectionCls = _PublicOnlyConnection


class _PublicOnlyAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        super().init_poolmanager(*args, **kwargs)  # type: ignore[arg-type]
        self.poolmanager.pool_classes_by_scheme = {"https": _PublicOnlyPool}
