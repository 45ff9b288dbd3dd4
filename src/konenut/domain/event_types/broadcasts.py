"""Broadcasts to households, each delivery attempt, and who read them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from konenut.domain.event_types.vocabulary import Id, Lang, Text
from konenut.domain.events import Payload


class BroadcastFields(BaseModel):
    texts: dict[Lang, Text] = Field(min_length=1)
    template: Annotated[str, StringConstraints(max_length=64)] | None = None
    household_ids: list[Id] = Field(default_factory=list, max_length=100_000)  # empty: all


class BroadcastSent(Payload, BroadcastFields):
    broadcast_id: Id
    # Languages whose text is a real translation (None: every text given); the others show
    # the custom text in the language it was written, marked "not translated".
    translated: list[Lang] | None = None
    audience: Literal["all", "households", "area", "group"] = "all"
    area: dict[str, Any] | None = None  # the GeoJSON Polygon it was resolved from
    group: Annotated[str, StringConstraints(max_length=64)] | None = None
    # The texts tell the safe word (the `safe_word` template): households only, never guests.
    carries_safe_word: bool | None = None


class BroadcastDeliverySent(Payload):
    """One attempt to bring a broadcast to one household on one channel (Web Push: all its
    subscribed devices; SMS: all its members' phones)."""

    broadcast_id: Id
    delivery_id: Id
    household_id: Id
    channel: Annotated[str, StringConstraints(max_length=32)]
    lang: Lang  # the first of `langs`
    # Every language its sends are written in: each member's phone and each device in its own
    # (empty in deliveries recorded before there was more than one).
    langs: list[Lang] = Field(default_factory=list, max_length=5)
    to: Annotated[str, StringConstraints(max_length=200)] = ""


class BroadcastDeliverySettled(Payload):
    broadcast_id: Id
    delivery_id: Id
    household_id: Id
    outcome: Literal["delivered", "failed"]
    reason: Annotated[str, StringConstraints(max_length=500)] = ""
    provider_message_id: Annotated[str, StringConstraints(max_length=200)] | None = None


class BroadcastRead(Payload):
    """The household's app showed the broadcast on screen."""

    broadcast_id: Id
    household_id: Id
