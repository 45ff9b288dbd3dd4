"""The channel interface: one outbound message, one delivery result, never an exception."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

# A channel that has not answered within this time is reported as failed so the escalation
# moves on: its steps are ~30 s apart and the next step (e.g. SMS after Web Push) must not wait
# for a dead provider. 10 s is well above a healthy push service or SMS gateway (< 2 s) and
# below the shortest escalation wait.
SEND_TIMEOUT_SECS = 10.0


@dataclass(frozen=True)
class PushSubscription:
    """A browser's PushSubscription (its JSON form): endpoint plus the two client keys."""

    endpoint: str
    p256dh: str  # base64url, uncompressed P-256 point of the browser's key
    auth: str  # base64url, 16-byte auth secret

    def as_info(self) -> dict[str, object]:
        """The `subscription_info` shape pywebpush and the browser's toJSON() use."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


@dataclass(frozen=True)
class Recipient:
    """Where one person can be reached; a channel uses only the field it needs."""

    person_id: str = ""
    phone: str | None = None  # E.164, e.g. +972501234567
    telegram_chat: str | None = None  # Telegram chat id
    email: str | None = None
    push_subscription: PushSubscription | None = None


@dataclass(frozen=True)
class OutboundMessage:
    """One message to one person on one channel."""

    channel: str
    recipient: Recipient
    title: str
    body: str
    lang: str  # BCP 47 language of title and body, e.g. "he", "en", "th"
    ack_url: str  # one-tap acknowledgement link for this person and incident
    tag: str  # dedupe key: the same tag on a device replaces the earlier notification
    # Extra fields for the receiving app (Web Push: the payload's "data", e.g. the incident the
    # service worker posts the answer to); channels that carry text only ignore it.
    data: Mapping[str, str] | None = None


@dataclass(frozen=True)
class DeliveryResult:
    """What the provider said; `sent` means the provider accepted the message."""

    sent: bool
    detail: str  # on failure, the reason in words (never a provider secret)
    provider_message_id: str | None = None
    # The address is permanently invalid (e.g. push subscription 404/410): drop it.
    gone: bool = False
    channel: str = ""


@runtime_checkable
class Channel(Protocol):
    """An adapter to one provider. `send` reports failures in the result, it does not raise."""

    @property
    def name(self) -> str: ...

    async def send(self, message: OutboundMessage) -> DeliveryResult: ...


async def bounded_send(
    channel_name: str,
    attempt: Callable[[], Awaitable[DeliveryResult]],
    timeout_secs: float,
    redact: Callable[[str], str] = lambda text: text,
) -> DeliveryResult:
    """Run one delivery attempt under a timeout, turning any exception into a failed result.

    `redact` removes provider secrets (tokens in URLs) from an exception's text.
    """
    try:
        async with asyncio.timeout(timeout_secs):
            return await attempt()
    except TimeoutError:
        return DeliveryResult(
            sent=False, detail=f"no answer within {timeout_secs:g} s", channel=channel_name
        )
    except Exception as exc:  # a provider bug must not stop the other channels
        return DeliveryResult(
            sent=False, detail=redact(f"{type(exc).__name__}: {exc}"), channel=channel_name
        )
