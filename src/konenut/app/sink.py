"""The command sink: what background senders and policies need of the event store, a Protocol.

The store (store/eventstore.py EventStore) satisfies it structurally; the app layer names
only this, so it never imports the store.
"""

from __future__ import annotations

from concurrent.futures import Future
from datetime import datetime
from typing import Protocol

from konenut.app.decisions import Decide, IdempotencyKey, Outcome
from konenut.domain.state import SiteState


class CommandSink(Protocol):
    """Runs commands, in order, against a site's current state, and shows that state."""

    @property
    def url(self) -> str:
        """The database's address: one sender of each kind per store and site."""
        ...

    def clock(self) -> datetime:
        """The store's time (an accelerated one in drills and tests)."""
        ...

    def submit(
        self, site_id: str, decide: Decide, idem: IdempotencyKey | None = None
    ) -> Future[Outcome]:
        """Queue a command; the future resolves once it is durable (or refused)."""
        ...

    def execute(self, site_id: str, decide: Decide, idem: IdempotencyKey | None = None) -> Outcome:
        """Run a command and wait for its outcome."""
        ...

    def state(self, site_id: str) -> SiteState:
        """The live projection of a site (do not mutate it)."""
        ...
