"""What a running API node holds: the node's Runtime (konenut/bootstrap.py) and the API's own
guards (code throttles, the denial log), and the role-filtered reads of the log."""

from __future__ import annotations

from dataclasses import dataclass, field

from konenut import bootstrap
from konenut.api.denials import DenialLog
from konenut.api.throttle import FailureThrottle, GuessingGuard
from konenut.domain.event_types import REGISTRY
from konenut.domain.events import Event, JsonDict, Viewer, view_for
from konenut.store.eventstore import EventStore


@dataclass
class Runtime(bootstrap.Runtime):
    """The node's Runtime, with what only the API needs."""

    enroll_throttle: FailureThrottle = field(init=False)
    # Guest poster redemptions, per address and per poster (limits: the site's [guests]).
    guest_throttle: FailureThrottle = field(init=False)
    denials: DenialLog = field(init=False)  # audit records of 403s, one a minute per token
    guessing: GuessingGuard = field(init=False)  # wrong codes from all addresses together

    def __post_init__(self) -> None:
        super().__post_init__()
        self.denials = DenialLog(self.submit_quietly, self.store.clock)
        processes = self.settings.workers  # each HTTP process refuses at its share of a limit
        self.enroll_throttle = FailureThrottle(processes=processes)
        self.guest_throttle = FailureThrottle(processes=processes)
        self.guessing = GuessingGuard(self.settings.code_guesses_per_min, processes=processes)


def visible(events: list[Event], viewer: Viewer) -> list[JsonDict]:
    """The events this viewer may see, shaped for them (contracts §4)."""
    shown: list[JsonDict] = []
    for event in events:
        body = view_for(event, REGISTRY[event.type], viewer)
        if body is not None:
            shown.append(body)
    return shown


def visible_types(viewer: Viewer) -> list[str]:
    """The event types some role of this viewer may see: the others are not even read."""
    return [
        name
        for name, etype in REGISTRY.items()
        if any(etype.audience.get(role) for role in viewer.roles)
    ]


def events_page(
    store: EventStore,
    site_id: str,
    viewer: Viewer,
    since: int,
    limit: int,
    incident_id: str | None = None,
) -> JsonDict:
    """Up to `limit` events after `since` that this viewer may see, read on through the ones it
    may not: a page is full, or final (`next_since` null) when the log was read to its end.

    `read_to_seq` is how far the log was read, seen or not: the cursor of the next read.
    """
    types = visible_types(viewer)
    shown: list[JsonDict] = []
    read_to = max(since, store.state(site_id).seq)  # before reading: nothing is skipped
    cursor = since
    while True:
        events = store.read(site_id, cursor, incident_id=incident_id, types=types, limit=limit)
        for event in events:
            cursor = event.seq
            body = view_for(event, REGISTRY[event.type], viewer)
            if body is not None:
                shown.append(body)
            if len(shown) == limit:
                return {"events": shown, "next_since": cursor, "read_to_seq": cursor}
        if len(events) < limit:
            return {"events": shown, "next_since": None, "read_to_seq": max(read_to, cursor)}
