"""What a running API node holds: settings, the store, and helpers to run commands."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import cached_property

from konenut.api.throttle import FailureThrottle
from konenut.config import Settings
from konenut.domain.event_types import REGISTRY
from konenut.domain.events import Event, JsonDict, Viewer, view_for
from konenut.notify.webpush import VapidKeys, load_or_create_vapid_keys
from konenut.store.eventstore import Decide, EventStore, IdempotencyKey, Outcome


@dataclass
class Runtime:
    settings: Settings
    store: EventStore
    migrations_at_head: bool = False
    enroll_throttle: FailureThrottle = field(default_factory=FailureThrottle)

    @property
    def site_id(self) -> str:
        return self.settings.site_id

    @cached_property
    def vapid_keys(self) -> VapidKeys:
        """The site's Web Push key pair, made on first use and kept in the data dir."""
        return load_or_create_vapid_keys(self.settings.data_dir)

    async def run(self, site_id: str, decide: Decide, idem: IdempotencyKey | None) -> Outcome:
        """Hand a command to the store's writer and wait until it is durable."""
        return await asyncio.wrap_future(self.store.submit(site_id, decide, idem))

    def submit_quietly(self, site_id: str, decide: Decide) -> None:
        """Append without waiting (audit records of denials)."""
        self.store.submit(site_id, decide)


def visible(events: list[Event], viewer: Viewer) -> list[JsonDict]:
    """The events this viewer may see, shaped for them (contracts §4)."""
    shown: list[JsonDict] = []
    for event in events:
        body = view_for(event, REGISTRY[event.type], viewer)
        if body is not None:
            shown.append(body)
    return shown
