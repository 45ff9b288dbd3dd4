"""What a command decides and how it is answered: Decide, Decision, Outcome, IdempotencyKey."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from konenut.domain.events import Event, JsonDict, NewEvent
from konenut.domain.state import SiteState


@dataclass(frozen=True)
class IdempotencyKey:
    """Who sent the command (token, pass or code id), their key and the request's hash."""

    scope: str
    key: str
    request_hash: str


@dataclass(frozen=True)
class Decision:
    """What a command decided: events to append and extra fields for the response body."""

    events: Sequence[NewEvent] = ()
    extra: JsonDict = field(default_factory=dict)
    # Fields of the response that must not be stored readable (a token, a one-time code).
    secrets: JsonDict = field(default_factory=dict)
    status: int | None = None  # default: 201 when events are appended, else 200


# A command's body: run by the store's writer against the site's current state and the time.
Decide = Callable[[SiteState, datetime], Decision]


@dataclass(frozen=True)
class Outcome:
    """A command's result as the API answers it."""

    status: int
    body: JsonDict
    events: tuple[Event, ...] = ()
    replayed: bool = False
    stored_body: JsonDict | None = None  # the body as kept for replays, secrets sealed
