"""What a running API node holds: settings, the store, and helpers to run commands."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import cached_property

import structlog

from konenut.api.throttle import FailureThrottle
from konenut.app import caution
from konenut.app.identity import links_url
from konenut.config import Settings
from konenut.domain.event_types import REGISTRY
from konenut.domain.events import Event, JsonDict, Viewer, view_for
from konenut.notify.webpush import VapidKeys, load_or_create_vapid_keys
from konenut.store.eventstore import Decide, EventStore, IdempotencyKey, Outcome

log = structlog.get_logger(__name__)


@dataclass
class Runtime:
    settings: Settings
    store: EventStore
    migrations_at_head: bool = False
    enroll_throttle: FailureThrottle = field(default_factory=FailureThrottle)

    @property
    def site_id(self) -> str:
        return self.settings.site_id

    def links_url(self) -> str:
        """The base of the links this node hands out (the site's public URL, else its own)."""
        return links_url(self.store.state(self.site_id).site, self.settings.base_url())

    @cached_property
    def vapid_keys(self) -> VapidKeys:
        """The site's Web Push key pair, made on first use and kept in the data dir."""
        return load_or_create_vapid_keys(self.settings.data_dir)

    async def run(self, site_id: str, decide: Decide, idem: IdempotencyKey | None) -> Outcome:
        """Hand a command to the store's writer and wait until it is durable."""
        outcome = await asyncio.wrap_future(self.store.submit(site_id, decide, idem))
        appended = outcome.body.get("events")  # the registry import answers with a count
        if outcome.status == 201 and not outcome.replayed and isinstance(appended, list):
            self._raise_cautions(site_id, appended)
        return outcome

    def _raise_cautions(self, site_id: str, events: list[JsonDict]) -> None:
        """Cautions the appended events call for (app/caution.py), as a follow-up command:
        queued before the answer goes back, written after it."""
        triggers = caution.triggers_in(events)
        if not triggers:
            return
        try:
            due = caution.cautions_after(self.store.state(site_id), self.store.clock(), triggers)
        except Exception:  # the command is durable already: its caller must not get a 500
            log.exception("caution.check_failed", types=[t["type"] for t in triggers])
            return
        if due:
            self.store.submit(site_id, caution.raise_cautions(triggers))

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
