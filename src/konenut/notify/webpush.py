"""Web Push with VAPID (RFC 8030/8291/8292): the site's key pair and a push Channel."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from konenut.app.channels import (
    SEND_TIMEOUT_SECS,
    DeliveryResult,
    OutboundMessage,
    bounded_send,
)
from konenut.app.sending import MAX_CONCURRENT_SENDS
from konenut.notify.push_endpoints import PushEndpointPolicy
from konenut.security.private_files import create_private_file

log = structlog.get_logger(__name__)

VAPID_PRIVATE_KEY_NAME = "vapid_private.pem"
# How long the push service keeps an undelivered call for a phone that is offline. A muster
# call older than half an hour is stale (the escalation has moved to SMS and calls by then).
PUSH_TTL_SECS = 1800
# RFC 8030 §5.4: the Topic header (lets the push service replace a pending message with the
# same tag) is at most 32 characters of the base64url alphabet.
TOPIC_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
GONE_STATUSES = frozenset({404, 410})  # the subscription expired or was unsubscribed


@dataclass(frozen=True)
class VapidKeys:
    """The site's VAPID key pair."""

    private_key: ec.EllipticCurvePrivateKey
    path: Path
    created: bool = False

    @property
    def application_server_key(self) -> str:
        """Base64url (unpadded) uncompressed public point: `applicationServerKey` in the app."""
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(raw)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def load_or_create_vapid_keys(data_dir: Path) -> VapidKeys:
    """Read `vapid_private.pem` from the data dir, creating it (mode 0600) on first use."""
    path = data_dir / VAPID_PRIVATE_KEY_NAME
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        if create_private_file(path, pem):
            log.info("notify.vapid_created", path=str(path))
            return VapidKeys(private_key=key, path=path, created=True)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey) or not isinstance(
        loaded.curve, ec.SECP256R1
    ):
        raise ValueError(f"{path} is not a P-256 private key; remove it to create a new one")
    return VapidKeys(private_key=loaded, path=path)


class WebPushChannel:
    """Sends a JSON payload (title, body, lang, ack_url, tag) to a browser push subscription,
    only where `endpoints` allows (checked again at every send: a name may resolve elsewhere
    by now)."""

    def __init__(
        self,
        keys: VapidKeys,
        subject: str,
        *,
        endpoints: PushEndpointPolicy | None = None,
        name: str = "webpush",
        ttl_secs: int = PUSH_TTL_SECS,
        timeout_secs: float = SEND_TIMEOUT_SECS,
    ) -> None:
        if not subject.startswith(("mailto:", "https://")):
            raise ValueError("the VAPID subject must be a mailto: or https:// contact")
        self._keys = keys
        self._subject = subject
        self._endpoints = endpoints or PushEndpointPolicy()
        self._name = name
        self._ttl_secs = ttl_secs
        self._timeout_secs = timeout_secs
        self._sessions: dict[bool, requests.Session] = {}  # allow-listed or not -> its session
        self._sessions_lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        subscription = message.recipient.push_subscription
        if subscription is None:
            return DeliveryResult(
                sent=False, detail="recipient has no push subscription", channel=self._name
            )
        endpoint = subscription.endpoint
        result = await bounded_send(
            self._name,
            lambda: asyncio.to_thread(self._push, message),
            self._timeout_secs,
            lambda text: text.replace(endpoint, _origin(endpoint)),
        )
        log.info(
            "notify.webpush",
            channel=self._name,
            push_service=_origin(endpoint),  # the full endpoint is a capability URL
            sent=result.sent,
            gone=result.gone,
            detail=result.detail,
            tag=message.tag,
        )
        return result

    def _push(self, message: OutboundMessage) -> DeliveryResult:
        """Blocking pywebpush call, run in a worker thread."""
        # Loaded on the first push, not at import: pywebpush brings aiohttp and requests, a
        # twentieth of a server's start (bench/rebuild.py's restart).
        from py_vapid import Vapid02
        from pywebpush import WebPushException, webpush

        subscription = message.recipient.push_subscription
        assert subscription is not None
        refused = self._endpoints.refusal(subscription.endpoint)
        if refused is not None:  # a lasting refusal drops the subscription
            return DeliveryResult(
                sent=False, detail=refused.reason, gone=refused.lasting, channel=self._name
            )
        fields: dict[str, object] = {
            "title": message.title,
            "body": message.body,
            "lang": message.lang,
            "ack_url": message.ack_url,
            "tag": message.tag,
        }
        if message.data is not None:
            fields["data"] = dict(message.data)
        payload = json.dumps(fields, ensure_ascii=False)
        headers: dict[str, str | int | float] = {"Urgency": "high"}
        if TOPIC_PATTERN.match(message.tag):
            headers["Topic"] = message.tag
        origin = _origin(subscription.endpoint)
        try:
            response = webpush(
                subscription_info=subscription.as_info(),
                data=payload,
                vapid_private_key=Vapid02(private_key=self._keys.private_key),
                vapid_claims={"sub": self._subject},  # fresh dict: pywebpush adds aud, exp
                ttl=self._ttl_secs,
                timeout=self._timeout_secs,
                headers=headers,
                requests_session=self._session(subscription.endpoint),
            )
        except WebPushException as exc:
            status = getattr(exc.response, "status_code", None)
            if status in GONE_STATUSES:
                return DeliveryResult(
                    sent=False,
                    detail=f"subscription gone ({status})",
                    gone=True,
                    channel=self._name,
                )
            # Only the status: the remote body (anything the push service, or whoever is at
            # that address, chose to answer) never reaches the board or the log.
            reason = f"push service {origin} answered {status}" if status else exc.message
            return DeliveryResult(sent=False, detail=reason, channel=self._name)
        except OSError as exc:  # requests' connection errors and timeouts are OSErrors
            return DeliveryResult(
                sent=False,
                detail=f"push service {origin} unreachable ({type(exc).__name__})",
                channel=self._name,
            )
        location = response.headers.get("Location") if hasattr(response, "headers") else None
        return DeliveryResult(
            sent=True,
            detail=f"accepted ({response.status_code})",
            provider_message_id=location,
            channel=self._name,
        )

    def _session(self, endpoint: str) -> requests.Session:
        """The channel's session for endpoints of this kind (allow-listed, or public only), kept
        for its life: a push reuses a connection to its push service instead of a new TCP
        connection and TLS handshake each (each connection was checked where it landed)."""
        allow_listed = self._endpoints.allow_listed(endpoint)
        with self._sessions_lock:
            session = self._sessions.get(allow_listed)
            if session is None:
                session = self._endpoints.session(endpoint, pool_size=MAX_CONCURRENT_SENDS)
                self._sessions[allow_listed] = session
            return session


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
