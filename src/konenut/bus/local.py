"""The in-process bus: the store's writer thread hands each commit to the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog

from konenut.bus.base import Bus, SiteHandler, Unsubscribe
from konenut.domain.events import Event

log = structlog.get_logger(__name__)


class LocalBus(Bus):
    """One node, one process: `publish` schedules delivery with `call_soon_threadsafe`.

    The loop runs callbacks in the order they were scheduled and the store notifies in commit
    order, so handlers see each site's events in seq order without gaps.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handlers: dict[str, list[SiteHandler]] = {}

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def close(self) -> None:
        self._loop = None
        self._handlers.clear()

    def publish(self, site_id: str, events: Sequence[Event]) -> None:
        loop = self._loop
        if loop is None or not events:
            return
        try:
            loop.call_soon_threadsafe(self._deliver, site_id, tuple(events))
        except RuntimeError:  # the loop closed between the check and the call: nobody listens
            return

    def subscribe(self, site_id: str, handler: SiteHandler) -> Unsubscribe:
        handlers = self._handlers.setdefault(site_id, [])
        handlers.append(handler)

        def unsubscribe() -> None:
            if handler in handlers:
                handlers.remove(handler)

        return unsubscribe

    def _deliver(self, site_id: str, events: tuple[Event, ...]) -> None:
        for handler in list(self._handlers.get(site_id, ())):
            try:
                handler(events)
            except Exception:  # one failing subscriber must not starve the others
                log.exception("bus.handler_failed", site_id=site_id)
