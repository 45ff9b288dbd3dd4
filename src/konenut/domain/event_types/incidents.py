"""An incident opened and closed, and its proof-of-life rhythm."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from konenut.domain.event_types.vocabulary import Id, Name, Ref
from konenut.domain.events import Payload


class IncidentOpened(Payload):
    incident_id: Id
    ref: Ref
    title: Name
    kind: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "hostile_infiltration"


class IncidentClosed(Payload):
    incident_id: Id
    summary: Annotated[str, StringConstraints(max_length=2000)] = ""


class RecheckSet(Payload):
    """Proof of life: households silent for this many minutes are asked again (0: off)."""

    every_mins: int = Field(ge=0, le=240)
