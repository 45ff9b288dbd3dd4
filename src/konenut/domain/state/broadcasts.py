"""Broadcasts in the projection: their audience, each delivery attempt, who read them."""

from __future__ import annotations

from typing import TYPE_CHECKING, NotRequired, TypedDict, cast

from pydantic import Field

from konenut.domain.events import Event
from konenut.domain.state.view import Applier, View, at, incident_of

if TYPE_CHECKING:
    from konenut.domain.state.site import SiteState


class DeliveryView(View):
    """One attempt to bring a broadcast to a household on one channel."""

    delivery_id: str
    household_id: str
    channel: str
    lang: str
    langs: list[str] = Field(default_factory=list)  # every language its sends were in
    to: str = ""
    sent_at: str
    outcome: str | None = None  # "delivered" | "failed"; None while being sent
    reason: str = ""
    settled_at: str | None = None


class BroadcastView(View):
    """A broadcast's audience, its delivery attempts and which households have read it."""

    broadcast_id: str
    household_ids: list[str] = Field(default_factory=list)  # []: every household
    texts: dict[str, str] = Field(default_factory=dict)
    translated: list[str] | None = None  # None: every text is a translation
    sent_at: str
    deliveries: dict[str, DeliveryView] = Field(default_factory=dict)
    read: dict[str, str] = Field(default_factory=dict)  # household -> when first shown


class BroadcastSentPayload(TypedDict):
    broadcast_id: str
    texts: dict[str, str]
    household_ids: NotRequired[list[str]]  # absent or empty: every household
    translated: NotRequired[list[str]]


class BroadcastDeliverySentPayload(TypedDict):
    """What the projection reads of it beyond the delivery's own fields."""

    broadcast_id: str


class BroadcastDeliverySettledPayload(TypedDict):
    broadcast_id: str
    delivery_id: str
    outcome: str
    reason: NotRequired[str]


class BroadcastReadPayload(TypedDict):
    broadcast_id: str
    household_id: str


def _broadcast_sent(state: SiteState, event: Event) -> None:
    if incident := incident_of(state, event):
        p, when = cast(BroadcastSentPayload, event.payload), at(event)
        targets = p.get("household_ids") or []
        incident.broadcasts[p["broadcast_id"]] = BroadcastView(
            broadcast_id=p["broadcast_id"],
            household_ids=targets,
            texts=p["texts"],
            translated=p.get("translated"),
            sent_at=when,
        )
        if not targets:
            incident.asked_all_at = max(when, incident.asked_all_at or when)
        for household_id in targets:
            incident.asked[household_id] = max(when, incident.asked.get(household_id, when))


def _broadcast_delivery_sent(state: SiteState, event: Event) -> None:
    incident = incident_of(state, event)
    broadcast_id = cast(BroadcastDeliverySentPayload, event.payload)["broadcast_id"]
    broadcast = incident.broadcasts.get(broadcast_id) if incident else None
    if broadcast is not None:
        fields = {k: v for k, v in event.payload.items() if k != "broadcast_id"}
        delivery = DeliveryView(**fields, sent_at=at(event))
        broadcast.deliveries[delivery.delivery_id] = delivery


def _broadcast_delivery_settled(state: SiteState, event: Event) -> None:
    incident = incident_of(state, event)
    p = cast(BroadcastDeliverySettledPayload, event.payload)
    broadcast = incident.broadcasts.get(p["broadcast_id"]) if incident else None
    delivery = broadcast.deliveries.get(p["delivery_id"]) if broadcast else None
    if delivery is not None and delivery.outcome is None:
        delivery.outcome = p["outcome"]
        delivery.reason = p.get("reason", "")
        delivery.settled_at = at(event)


def _broadcast_read(state: SiteState, event: Event) -> None:
    incident = incident_of(state, event)
    p = cast(BroadcastReadPayload, event.payload)
    broadcast = incident.broadcasts.get(p["broadcast_id"]) if incident else None
    if broadcast is not None:
        broadcast.read.setdefault(p["household_id"], at(event))


APPLIERS: dict[str, Applier] = {
    "broadcast.sent": _broadcast_sent,
    "broadcast.delivery_sent": _broadcast_delivery_sent,
    "broadcast.delivery_settled": _broadcast_delivery_settled,
    "broadcast.read": _broadcast_read,
}
