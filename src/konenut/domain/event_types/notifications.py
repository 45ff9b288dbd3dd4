"""The escalation chain and each attempt to reach a person on one channel."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from konenut.domain.escalation import Channel, EscalationPolicy
from konenut.domain.event_types.vocabulary import Id, Lang
from konenut.domain.events import Payload


class EscalationPolicySet(Payload, EscalationPolicy):
    """The site's escalation chain (domain/escalation.py); replaces the previous one."""


class NotificationSent(Payload):
    """An attempt to reach a person on one channel for one muster call (step, retry)."""

    notification_id: Id
    muster_id: Id
    person_id: Id
    step: int = Field(ge=0, le=20)
    retry: int = Field(default=0, ge=0, le=10)
    channel: Channel
    lang: Lang = "he"
    to: Annotated[str, StringConstraints(max_length=200)] = ""  # masked address, for the board
    # muster: the call itself; deputy: "X has not answered"; confirmation: an answer received;
    # bring: the commander asked this person to bring a key or radio they hold.
    question: Literal["muster", "confirmation", "deputy", "bring"] = "muster"


class NotificationDelivered(Payload):
    notification_id: Id
    person_id: Id
    provider_message_id: Annotated[str, StringConstraints(max_length=200)] | None = None


class NotificationFailed(Payload):
    notification_id: Id
    person_id: Id
    reason: Annotated[str, StringConstraints(max_length=500)]
    gone: bool = False  # the address is permanently invalid
