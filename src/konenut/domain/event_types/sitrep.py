"""The SITREP's audit trail: a situation report was produced, or sent to a target (admins)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

from konenut.domain.event_types.audiences import ADMIN_ONLY
from konenut.domain.event_types.vocabulary import Lang
from konenut.domain.events import EventType, Payload

SitrepFormat = Literal["html", "pdf", "text", "png"]


class SitrepProduced(Payload):
    """Someone took the incident's picture out of the system as a report."""

    format: SitrepFormat
    lang: Lang


class SitrepSent(Payload):
    """The short text went to a channel's target; `to` is masked, `detail` never a secret."""

    channel: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    to: Annotated[str, StringConstraints(max_length=100)]
    lang: Lang
    sent: bool
    detail: Annotated[str, StringConstraints(max_length=300)] = ""


# Audit records, as every audit.* event: admins only (contracts §4).
SITREP_EVENT_TYPES: tuple[EventType, ...] = (
    EventType("audit.sitrep_produced", 1, SitrepProduced, ADMIN_ONLY, requires_incident=True),
    EventType("audit.sitrep_sent", 1, SitrepSent, ADMIN_ONLY, requires_incident=True),
)
