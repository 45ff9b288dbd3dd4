"""Web Push to a real local push endpoint that verifies the VAPID JWT and decrypts the payload."""

from __future__ import annotations

import base64
import json
import os
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from helpers import run_async
from konenut.notify.channels import Channel, OutboundMessage, PushSubscription, Recipient
from konenut.notify.webpush import (
    PUSH_TTL_SECS,
    VAPID_PRIVATE_KEY_NAME,
    WebPushChannel,
    load_or_create_vapid_keys,
)

SUBJECT = "mailto:squad-admin@alumim.example"
ACK_URL = "https://konenut.example/he/ack#T0KEN-abc"
MAX_JWT_LIFETIME_SECS = 24 * 3600  # RFC 8292 §2: exp no further than 24 h ahead
LOCATION = "http://127.0.0.1/message/m-1"
PUSH_PATH = "/push/abc"


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


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


@pytest.fixture
def push_service() -> Iterator[Callable[[Browser, int], tuple[str, list[Delivered]]]]:
    servers: list[ThreadingHTTPServer] = []

    def start(browser: Browser, status: int) -> tuple[str, list[Delivered]]:
        delivered: list[Delivered] = []

        class Handler(BaseHTTPRequestHandler):
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
                    )
                )
                self.send_response(201)
                self.send_header("Location", LOCATION)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        endpoint = f"http://127.0.0.1:{server.server_port}{PUSH_PATH}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return endpoint, delivered

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _message(subscription: PushSubscription | None, tag: str = "muster-42") -> OutboundMessage:
    return OutboundMessage(
        channel="webpush",
        recipient=Recipient(person_id="p-1", push_subscription=subscription),
        title="התראה: חדירת מחבלים",
        body="הגיעו חמושים לנשקייה",
        lang="he",
        ack_url=ACK_URL,
        tag=tag,
    )


def test_vapid_keys_created_private_and_reloaded(tmp_path: Path) -> None:
    keys = load_or_create_vapid_keys(tmp_path / "data")
    assert keys.created
    path = tmp_path / "data" / VAPID_PRIVATE_KEY_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = b64url_decode(keys.application_server_key)
    assert len(raw) == 65 and raw[0] == 4  # uncompressed P-256 point
    again = load_or_create_vapid_keys(tmp_path / "data")
    assert not again.created
    assert again.application_server_key == keys.application_server_key


def test_push_verified_and_decrypted(
    tmp_path: Path, push_service: Callable[[Browser, int], tuple[str, list[Delivered]]]
) -> None:
    browser = Browser()
    endpoint, delivered = push_service(browser, 201)
    keys = load_or_create_vapid_keys(tmp_path)
    channel = WebPushChannel(keys, SUBJECT)
    assert isinstance(channel, Channel)

    result = run_async(channel.send(_message(browser.subscription(endpoint))))

    assert result.sent, result
    assert result.provider_message_id == LOCATION
    (push,) = delivered
    assert push.payload == {
        "title": "התראה: חדירת מחבלים",
        "body": "הגיעו חמושים לנשקייה",
        "lang": "he",
        "ack_url": ACK_URL,
        "tag": "muster-42",
    }
    assert push.claims["sub"] == SUBJECT
    assert push.vapid_key == keys.application_server_key  # the key the browser subscribed with
    assert push.headers["ttl"] == str(PUSH_TTL_SECS)
    assert push.headers["urgency"] == "high"
    assert push.headers["topic"] == "muster-42"


def test_subscription_gone(
    tmp_path: Path, push_service: Callable[[Browser, int], tuple[str, list[Delivered]]]
) -> None:
    browser = Browser()
    channel = WebPushChannel(load_or_create_vapid_keys(tmp_path), SUBJECT)
    for status in (410, 404):
        endpoint, _ = push_service(browser, status)
        result = run_async(channel.send(_message(browser.subscription(endpoint))))
        assert not result.sent and result.gone
        assert result.detail == f"subscription gone ({status})"


def test_other_errors_have_a_reason(
    tmp_path: Path, push_service: Callable[[Browser, int], tuple[str, list[Delivered]]]
) -> None:
    browser = Browser()
    channel = WebPushChannel(load_or_create_vapid_keys(tmp_path), SUBJECT, timeout_secs=3.0)
    endpoint, _ = push_service(browser, 503)
    result = run_async(channel.send(_message(browser.subscription(endpoint))))
    assert not result.sent and not result.gone
    assert "503" in result.detail
    assert "/push/abc" not in result.detail  # the endpoint is a capability URL

    unreachable = f"http://127.0.0.1:{_free_port()}/push/abc"
    result = run_async(channel.send(_message(browser.subscription(unreachable))))
    assert not result.sent and "unreachable" in result.detail
    assert "/push/abc" not in result.detail

    result = run_async(channel.send(_message(None)))
    assert not result.sent and result.detail == "recipient has no push subscription"


def test_verifier_rejects_a_forged_jwt(tmp_path: Path) -> None:
    """The endpoint's check is not vacuous: another key's signature or an altered claim fails."""
    from cryptography.exceptions import InvalidSignature
    from py_vapid import Vapid02

    origin = "http://127.0.0.1:1"
    claims = {"sub": SUBJECT, "aud": origin, "exp": int(time.time()) + 3600}
    header = Vapid02(private_key=ec.generate_private_key(ec.SECP256R1())).sign(dict(claims))
    authorization = header["Authorization"]
    verify_vapid(authorization, origin)  # genuine: passes
    token, key = authorization.removeprefix("vapid t=").split(",k=")
    other_key = b64url(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    with pytest.raises(InvalidSignature):
        verify_vapid(f"vapid t={token},k={other_key}", origin)
    head, _, signature = token.split(".")
    forged_claims = b64url(json.dumps({**claims, "sub": "mailto:x@evil.example"}).encode())
    with pytest.raises(InvalidSignature):
        verify_vapid(f"vapid t={head}.{forged_claims}.{signature},k={key}", origin)
    with pytest.raises(AssertionError):
        verify_vapid(authorization, "http://127.0.0.1:2")  # wrong audience
