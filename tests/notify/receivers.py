"""Local receivers for outbound channels: an HTTP sink for Apprise's json:// and form://, and a
Web Push service that verifies the VAPID JWT and decrypts the payload (RFC 8291/8292)."""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from konenut.app.channels import PushSubscription
from konenut.notify.push_endpoints import PushEndpointPolicy

HANG_RELEASE_SECS = 3.0  # a hanging receiver answers after this (or at teardown)
# Connections waiting to be accepted, as a provider's server allows: the stdlib default of 5
# resets connections when a channel opens dozens at once (its sends in flight).
LISTEN_BACKLOG = 1024
MAX_JWT_LIFETIME_SECS = 24 * 3600  # RFC 8292 §2: exp no further than 24 h ahead
LOCATION = "http://127.0.0.1/message/m-1"
PUSH_PATH = "/push/abc"
# The local push service is plain HTTP on loopback, which no phone's subscription may name: the
# senders reach it as an allow-listed self-hosted push service (KONENUT_PUSH_ALLOW_HOSTS).
LOCAL_PUSH_HOST = "http://127.0.0.1"
LOCAL_PUSH = PushEndpointPolicy([LOCAL_PUSH_HOST])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# --- HTTP sink (Apprise json:// / form://) --------------------------------------------------
@dataclass
class Received:
    path: str
    content_type: str
    body: bytes
    peer: tuple[str, int] = ("", 0)  # the client's end of the connection it came on

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body.decode("utf-8"))
        return data


@dataclass
class Receiver:
    """A stdlib HTTP server on a free loopback port that records each POST."""

    status: int = 200
    hang: bool = False
    hang_secs: float = HANG_RELEASE_SECS  # how long a hanging receiver holds each request
    body: bytes = b""  # what it answers
    headers: dict[str, str] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    port: int = 0
    held: int = 0  # hanging: requests held now
    most_held: int = 0  # hanging: the most requests held at once
    lock: threading.Lock = field(default_factory=threading.Lock)

    def connections(self) -> int:
        """How many TCP connections the requests came on."""
        return len({r.peer for r in self.requests})


class LoopbackServer(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG  # read when it listens, in the constructor
    daemon_threads = True


@pytest.fixture
def receiver_factory() -> Iterator[Callable[..., Receiver]]:
    servers: list[tuple[ThreadingHTTPServer, Receiver]] = []

    def start(
        status: int = 200,
        hang: bool = False,
        hang_secs: float = HANG_RELEASE_SECS,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        keep_alive: bool = False,
    ) -> Receiver:
        """`keep_alive`: HTTP/1.1 with persistent connections, as a provider's API speaks."""
        state = Receiver(
            status=status, hang=hang, hang_secs=hang_secs, body=body, headers=headers or {}
        )

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                content_type = self.headers.get("Content-Type", "")
                peer = (self.client_address[0], self.client_address[1])
                state.requests.append(Received(self.path, content_type, body, peer))
                if state.hang:
                    with state.lock:
                        state.held += 1
                        state.most_held = max(state.most_held, state.held)
                    state.release.wait(state.hang_secs)
                    with state.lock:
                        state.held -= 1
                self.send_response(state.status)
                for name, value in state.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(state.body)))
                self.end_headers()
                self.wfile.write(state.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = LoopbackServer(("127.0.0.1", 0), Handler)
        state.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append((server, state))
        return state

    yield start
    for server, state in servers:
        state.release.set()
        server.shutdown()
        server.server_close()


# --- Web Push service -----------------------------------------------------------------------
@dataclass
class Browser:
    """The user agent's side of a subscription: its ECDH key and auth secret."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self, endpoint: str) -> PushSubscription:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return PushSubscription(endpoint=endpoint, p256dh=b64url(public), auth=b64url(self.auth))


@dataclass
class Delivered:
    claims: dict[str, Any]
    vapid_key: str
    headers: dict[str, str]
    payload: dict[str, Any]
    peer: tuple[str, int] = ("", 0)  # the push sender's end of the connection it came on


def verify_vapid(authorization: str, origin: str) -> tuple[dict[str, Any], str]:
    """Check `vapid t=<jwt>, k=<key>` as a push service does (RFC 8292); return claims, k."""
    scheme, _, params = authorization.partition(" ")
    assert scheme.lower() == "vapid", authorization
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    token, key = fields["t"], fields["k"]
    header_b64, claims_b64, signature_b64 = token.split(".")
    header = json.loads(b64url_decode(header_b64))
    assert header["alg"] == "ES256"
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
    raw_signature = b64url_decode(signature_b64)
    assert len(raw_signature) == 64
    signature = encode_dss_signature(
        int.from_bytes(raw_signature[:32], "big"), int.from_bytes(raw_signature[32:], "big")
    )
    # Raises InvalidSignature (-> 500 in the handler, a failed test) when the JWT is forged.
    public.verify(signature, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    claims = json.loads(b64url_decode(claims_b64))
    assert claims["aud"] == origin
    now = time.time()
    assert now < claims["exp"] <= now + MAX_JWT_LIFETIME_SECS
    assert claims["sub"]
    return claims, key


PushService = Callable[[Browser, int], tuple[str, list[Delivered]]]


@pytest.fixture
def push_service() -> Iterator[PushService]:
    """start(browser, status) -> (endpoint, deliveries): 201 verifies and decrypts each push."""
    servers: list[ThreadingHTTPServer] = []

    def start(browser: Browser, status: int) -> tuple[str, list[Delivered]]:
        delivered: list[Delivered] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # persistent connections, as push services keep

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if status != 201:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                origin = endpoint.removesuffix(PUSH_PATH)
                claims, key = verify_vapid(self.headers["Authorization"], origin)
                assert self.headers["Content-Encoding"] == "aes128gcm"
                plaintext = http_ece.decrypt(
                    body,
                    private_key=browser.private_key,
                    auth_secret=browser.auth,
                    version="aes128gcm",
                )
                delivered.append(
                    Delivered(
                        claims,
                        key,
                        {k.lower(): v for k, v in self.headers.items()},
                        json.loads(plaintext),
                        (self.client_address[0], self.client_address[1]),
                    )
                )
                self.send_response(201)
                self.send_header("Location", LOCATION)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = LoopbackServer(("127.0.0.1", 0), Handler)
        endpoint = f"http://127.0.0.1:{server.server_port}{PUSH_PATH}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return endpoint, delivered

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
