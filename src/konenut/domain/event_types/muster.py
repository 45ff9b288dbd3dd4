"""A muster call, and who saw it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from konenut.domain.event_types.vocabulary import Id, Ref
from konenut.domain.events import Payload


class MusterCalled(Payload):
    muster_id: Id
    rally_point_ref: Ref
    text: Annotated[str, StringConstraints(max_length=500)] = ""
    targets: list[Id] = Field(default_factory=list, max_length=5000)  # empty: whole squad
    team: Ref | None = None  # the team the targets were chosen by, if any
    template: Annotated[str, StringConstraints(max_length=64)] | None = None


class MusterSeen(Payload):
    muster_id: Id
    person_id: Id
    via: Literal["app", "notification"] = "app"
