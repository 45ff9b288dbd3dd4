"""The bus interface: appended events in, per-site deliveries out, on every node."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

from konenut.domain.events import Event

# Called on the node's event loop with events of one site, in seq order.
SiteHandler = Callable[[Sequence[Event]], None]
Unsubscribe = Callable[[], None]


class Bus(ABC):
    """Carries each committed batch of events to every subscriber of its site, on every node.

    `publish` is the store's listener: it runs on the store's writer thread right after a
    commit, so it must return at once and never raise. Handlers run on the event loop of the
    node that subscribed. The in-process `LocalBus` is the default; a Redis bus (several
    nodes) publishes to a channel per site and delivers what any node appended. Delivery may
    repeat or skip events (a node restarting, another process appending): subscribers keep
    their own last `seq`, drop repeats and read gaps from the log.
    """

    @abstractmethod
    async def start(self) -> None:
        """Begin delivering, on the running event loop."""

    @abstractmethod
    async def close(self) -> None:
        """Stop delivering; later `publish` calls are ignored."""

    @abstractmethod
    def publish(self, site_id: str, events: Sequence[Event]) -> None:
        """Hand over a committed batch (any thread; returns at once, never raises)."""

    @abstractmethod
    def subscribe(self, site_id: str, handler: SiteHandler) -> Unsubscribe:
        """Call `handler(events)` on the event loop for each batch of the site."""
