"""Which channel object and which address reach a person on one escalation channel, or why not.

The channels themselves are adapters (notify/router.py builds a Router with those the settings
configure); this is the part the background senders use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from konenut.app.channels import Channel, PushSubscription, Recipient
from konenut.domain.state import ContactView, SiteState

PUSH = "push"
DEFAULT_TIMEZONE = "Asia/Jerusalem"
# Channels whose address defaults to the phone of person.added when no contact point is set.
PHONE_DEFAULT = frozenset({"sms", "voice"})
NOT_CONFIGURED = {
    "sms": "no SMS gateway configured",
    "telegram": "no Telegram bot configured",
    "signal": "no Signal gateway configured",
    "whatsapp": "no WhatsApp gateway configured",
    "email": "no e-mail server configured",
    "voice": "no voice gateway configured",
    PUSH: "Web Push not configured",
}
NO_ADDRESS = {
    "sms": "no phone number",
    "voice": "no phone number",
    "signal": "no Signal number",
    "whatsapp": "no WhatsApp number",
    "telegram": "no Telegram chat",
    "email": "no e-mail address",
    PUSH: "no push subscription",
}
QUIET_HOURS = "quiet hours"


@dataclass(frozen=True)
class Target:
    """One address on one channel; `token_id` is the device of a push subscription."""

    recipient: Recipient
    token_id: str | None = None


@dataclass(frozen=True)
class Route:
    channel: Channel
    targets: tuple[Target, ...]
    to: str  # the address masked, for the muster board


@dataclass(frozen=True)
class Unreachable:
    """The person cannot be reached on this channel, and a retry would not change it."""

    reason: str


class Router:
    """Outbound channels by name, and who each reaches."""

    def __init__(self, channels: Mapping[str, Channel], *, timezone: str | None = None) -> None:
        self.channels = dict(channels)
        self.timezone = timezone

    def configured(self, channel: str) -> bool:
        return channel in self.channels

    def route(
        self, state: SiteState, person_id: str, channel: str, *, drill: bool, now: datetime
    ) -> Route | Unreachable:
        """How to reach the person on `channel` now (drills respect quiet hours)."""
        sender = self.channels.get(channel)
        if sender is None:
            return Unreachable(NOT_CONFIGURED.get(channel, f"no {channel} channel configured"))
        if channel == PUSH:
            return self._push_route(state, person_id, sender, now)
        contact = state.contacts.get(person_id, {}).get(channel)
        if drill and contact is not None and in_quiet_hours(contact, now, self._zone(state)):
            return Unreachable(QUIET_HOURS)
        address = contact.address if contact is not None else None
        person = state.persons.get(person_id)
        if address is None and channel in PHONE_DEFAULT and person is not None:
            address = person.phone
        if not address:
            return Unreachable(NO_ADDRESS[channel])
        recipient = _recipient(person_id, channel, address)
        return Route(sender, (Target(recipient),), mask(channel, address))

    def household_push_route(
        self, state: SiteState, household_id: str, now: datetime
    ) -> Route | Unreachable:
        """Every device of the household that subscribed: its residents' devices (whose
        subject is the household) and its members' own."""
        sender = self.channels.get(PUSH)
        if sender is None:
            return Unreachable(NOT_CONFIGURED[PUSH])
        members = {
            p.person_id for p in list(state.persons.values()) if p.household_id == household_id
        }
        return self._push_route(state, household_id, sender, now, members | {household_id})

    def _push_route(
        self,
        state: SiteState,
        person_id: str,
        sender: Channel,
        now: datetime,
        owners: set[str] | None = None,
    ) -> Route | Unreachable:
        """The person's subscribed devices that still work (a revoked or expired device is
        never reached, even if its subscription outlived it in an older log)."""
        owners = owners or {person_id}
        subscriptions = sorted(
            (
                p
                for p in list(state.push_subscriptions.values())
                if p.person_id in owners and not state.device_lapsed(p.token_id, now)
            ),
            key=lambda p: p.subscribed_at,
        )
        if not subscriptions:
            return Unreachable(NO_ADDRESS[PUSH])
        targets = tuple(
            Target(
                Recipient(
                    person_id=person_id,
                    push_subscription=PushSubscription(p.endpoint, p.p256dh, p.auth),
                ),
                token_id=p.token_id,
            )
            for p in subscriptions
        )
        devices = len(targets)
        return Route(sender, targets, f"{devices} device{'s' if devices > 1 else ''}")

    def _zone(self, state: SiteState) -> ZoneInfo:
        name = self.timezone or str((state.site or {}).get("timezone") or DEFAULT_TIMEZONE)
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(DEFAULT_TIMEZONE)


def _recipient(person_id: str, channel: str, address: str) -> Recipient:
    if channel == "telegram":
        return Recipient(person_id=person_id, telegram_chat=address)
    if channel == "email":
        return Recipient(person_id=person_id, email=address)
    return Recipient(person_id=person_id, phone=address)


def in_quiet_hours(contact: ContactView, now: datetime, zone: ZoneInfo) -> bool:
    """True when the site's local time is within the contact's quiet hours (may span midnight)."""
    if contact.quiet_from is None or contact.quiet_until is None:
        return False
    start, end = time.fromisoformat(contact.quiet_from), time.fromisoformat(contact.quiet_until)
    local = now.astimezone(zone).time().replace(tzinfo=None)
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def mask(channel: str, address: str) -> str:
    """Enough of an address to recognise it on the board, not enough to use it."""
    if channel == "email":
        user, _, domain = address.partition("@")
        return f"{user[:1]}***@{domain}"
    if len(address) <= 4:
        return "***"
    return f"{address[:4]}***{address[-2:]}"
