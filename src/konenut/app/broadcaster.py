"""The broadcaster: brings each broadcast to its households by Web Push and SMS.

The app already shows a broadcast through the stream. For every `broadcast.sent` in an open
incident that has no delivery yet, one command records a `broadcast.delivery_sent` per household
and channel (and at once a failed `broadcast.delivery_settled` where the household cannot be
reached: no subscribed device, no phone, no gateway); the sends then run concurrently on the
broadcaster's own loop and thread pool, and their outcomes are appended many per commit.
Modelled on app/escalator.py; its own thread, so a slow SMS gateway never holds back a muster.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import ClassVar

import structlog
from pydantic import Field

from konenut.app import commands as c
from konenut.app.handlers import in_open_incident, new_event
from konenut.app.identity import Actor
from konenut.domain.broadcasts import household_language, text_for
from konenut.domain.event_types import Id
from konenut.domain.events import Event, JsonDict, NewEvent
from konenut.domain.ids import new_id
from konenut.domain.state import BroadcastView, HouseholdView, IncidentView, SiteState
from konenut.i18n import catalogue
from konenut.notify import texts
from konenut.notify.channels import SEND_TIMEOUT_SECS, DeliveryResult, OutboundMessage, Recipient
from konenut.notify.channels import Channel as Sender
from konenut.notify.router import NO_ADDRESS, PUSH, Route, Router, Unreachable
from konenut.store.eventstore import Decide, Decision, EventStore

log = structlog.get_logger(__name__)

TICK_SECS = 1.0
MAX_CONCURRENT_SENDS = 64
STOP_GRACE_SECS = SEND_TIMEOUT_SECS + 2.0
FLUSH_BATCH_SECS = 0.1  # outcomes gather this long, then one commit for all of them
RETRY_FLUSH_SECS = 1.0
SMS = "sms"
CHANNELS = (PUSH, SMS)
REASON_MAX = 500
PROVIDER_ID_MAX = 200


@dataclass(frozen=True)
class Delivery:
    """The sends behind one `broadcast.delivery_sent`: one household on one channel."""

    incident_id: str
    drill: bool
    broadcast_id: str
    delivery_id: str
    household_id: str
    sends: list[tuple[Sender, OutboundMessage]] = field(default_factory=list)


Outcome = tuple[Delivery, DeliveryResult]


class Broadcaster:
    """One per site and store in a process. `start()` runs it on a thread of its own."""

    _running: ClassVar[set[tuple[str, str]]] = set()
    _running_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        store: EventStore,
        site_id: str,
        router: Router,
        base_url: str,
        *,
        auto: bool = True,
        tick_secs: float = TICK_SECS,
        concurrency: int = MAX_CONCURRENT_SENDS,
    ) -> None:
        self.store = store
        self.site_id = site_id
        self.router = router
        self.base_url = base_url.rstrip("/")
        self.auto = auto
        self.tick_secs = tick_secs
        self.concurrency = concurrency
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self._flush_wake: asyncio.Event | None = None
        self._flush_lock: asyncio.Lock | None = None
        self._gate: asyncio.Semaphore | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._deliveries: set[asyncio.Task[None]] = set()
        self._outcomes: list[Outcome] = []
        self._planned: set[str] = set()  # broadcasts handled (some reach nobody: no events)
        self._key = (store.url, site_id)

    # --- lifecycle (as the escalator's) ------------------------------------------------------
    def start(self) -> bool:
        """Start sending; False (and nothing started) if this site already has a broadcaster."""
        with Broadcaster._running_lock:
            if self._key in Broadcaster._running:
                log.warning("broadcaster.already_running", site_id=self.site_id)
                return False
            Broadcaster._running.add(self._key)
        self._thread = threading.Thread(
            target=self._serve, name=f"konenut-broadcaster-{self.site_id}", daemon=True
        )
        self._thread.start()
        self._ready.wait()
        self.store.subscribe(self._on_append)
        return True

    def stop(self) -> None:
        """Let sends in flight finish (bounded), record their outcomes, and stop."""
        if self._thread is None or self._loop is None:
            return
        self._stopping = True
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        try:
            future.result(timeout=STOP_GRACE_SECS + 5)
        except Exception:
            log.exception("broadcaster.stop_failed", site_id=self.site_id)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = None
        with Broadcaster._running_lock:
            Broadcaster._running.discard(self._key)

    def run_once(self, timeout: float = 60.0) -> int:
        """One tick, then wait until its sends are done and their outcomes recorded."""
        if self._loop is None:
            raise RuntimeError("Broadcaster.start() was not called")
        future = asyncio.run_coroutine_threadsafe(self._tick_and_settle(), self._loop)
        return future.result(timeout)

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        loop.set_default_executor(
            ThreadPoolExecutor(self.concurrency, thread_name_prefix="konenut-broadcast")
        )
        asyncio.set_event_loop(loop)
        self._loop = loop
        self._wake = asyncio.Event()
        self._flush_wake = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._gate = asyncio.Semaphore(self.concurrency)
        self._tasks = [loop.create_task(self._flush_forever())]
        if self.auto:
            self._tasks.append(loop.create_task(self._tick_forever()))
        loop.call_soon(self._ready.set)
        try:
            loop.run_forever()
        finally:
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0))
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def _on_append(self, site_id: str, events: Sequence[Event]) -> None:
        """Store listener (writer thread): wake the loop for a new broadcast."""
        loop, wake = self._loop, self._wake
        if self._stopping or site_id != self.site_id or loop is None or wake is None:
            return
        if any(event.type == "broadcast.sent" for event in events):
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(wake.set)

    async def _shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._deliveries:
            _, pending = await asyncio.wait(set(self._deliveries), timeout=STOP_GRACE_SECS)
            for task in pending:
                task.cancel()
        try:
            await self._flush()
        except Exception:
            log.exception("broadcaster.final_flush_failed", site_id=self.site_id)

    async def _tick_forever(self) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()
            try:
                await self.tick()
            except Exception:
                log.exception("broadcaster.tick_failed", site_id=self.site_id)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.tick_secs):
                    await self._wake.wait()

    async def _tick_and_settle(self) -> int:
        recorded = await self.tick()
        while self._deliveries:
            await asyncio.gather(*set(self._deliveries), return_exceptions=True)
        await self._flush()
        return recorded

    # --- one tick ----------------------------------------------------------------------------
    async def tick(self) -> int:
        """Record and start the deliveries of every new broadcast; returns how many."""
        if not self._pending(self.store.state(self.site_id)):
            return 0
        planned: list[Delivery] = []
        handled: list[str] = []

        def decide(state: SiteState, now: datetime) -> Decision:
            planned.clear()
            handled.clear()
            events: list[NewEvent] = []
            for incident, broadcast in self._pending(state):
                events += _Planner(self, state, incident, broadcast, now).plan(planned)
                handled.append(broadcast.broadcast_id)
            return Decision(events)

        await asyncio.wrap_future(self.store.submit(self.site_id, decide))
        self._planned.update(handled)  # also those that reached nobody: no event says so
        loop = asyncio.get_running_loop()
        for delivery in planned:
            if delivery.sends:
                task = loop.create_task(self._deliver(delivery))
                self._deliveries.add(task)
                task.add_done_callback(self._deliveries.discard)
        return len(planned)

    def _pending(self, state: SiteState) -> list[tuple[IncidentView, BroadcastView]]:
        return [
            (incident, broadcast)
            for incident in list(state.incidents.values())
            if incident.is_open
            for broadcast in list(incident.broadcasts.values())
            if not broadcast.deliveries and broadcast.broadcast_id not in self._planned
        ]

    # --- sending and outcomes ----------------------------------------------------------------
    async def _deliver(self, delivery: Delivery) -> None:
        results = await asyncio.gather(*(self._send(s, m) for s, m in delivery.sends))
        accepted = [r for r in results if r.sent]
        if accepted:
            outcome = next((r for r in accepted if r.provider_message_id), accepted[0])
        else:
            reasons = "; ".join(dict.fromkeys(r.detail or "failed" for r in results))
            outcome = DeliveryResult(sent=False, detail=reasons)
        self._outcomes.append((delivery, outcome))
        assert self._flush_wake is not None
        self._flush_wake.set()

    async def _send(self, sender: Sender, message: OutboundMessage) -> DeliveryResult:
        assert self._gate is not None
        async with self._gate:
            try:
                return await sender.send(message)
            except Exception as exc:  # the Channel protocol says it never raises; be sure
                log.exception("broadcaster.channel_raised", channel=sender.name)
                return DeliveryResult(sent=False, detail=f"{type(exc).__name__}: {exc}")

    async def _flush_forever(self) -> None:
        assert self._flush_wake is not None
        while True:
            await self._flush_wake.wait()
            await asyncio.sleep(FLUSH_BATCH_SECS)
            self._flush_wake.clear()
            try:
                await self._flush()
            except Exception:
                log.exception("broadcaster.outcomes_not_recorded", site_id=self.site_id)
                await asyncio.sleep(RETRY_FLUSH_SECS)
                self._flush_wake.set()

    async def _flush(self) -> None:
        """Append every outcome collected so far in one command (kept for a retry on failure)."""
        assert self._flush_lock is not None
        async with self._flush_lock:
            pending, self._outcomes = self._outcomes, []
            if not pending:
                return

            def decide(state: SiteState, now: datetime) -> Decision:
                return Decision([_settled(d, r, now) for d, r in pending])

            try:
                await asyncio.wrap_future(self.store.submit(self.site_id, decide))
            except BaseException:
                self._outcomes[:0] = pending
                raise


def _settled(delivery: Delivery, result: DeliveryResult, now: datetime) -> NewEvent:
    payload: JsonDict = {
        "broadcast_id": delivery.broadcast_id,
        "delivery_id": delivery.delivery_id,
        "household_id": delivery.household_id,
        "outcome": "delivered" if result.sent else "failed",
    }
    if not result.sent:
        payload["reason"] = result.detail[:REASON_MAX]
    elif result.provider_message_id:
        payload["provider_message_id"] = result.provider_message_id[:PROVIDER_ID_MAX]
    return NewEvent(
        type="broadcast.delivery_settled",
        payload=payload,
        occurred_at=now,
        incident_id=delivery.incident_id,
        drill=delivery.drill,
    )


class _Planner:
    """Turns one broadcast into a delivery per household and channel (runs on the writer)."""

    def __init__(
        self,
        broadcaster: Broadcaster,
        state: SiteState,
        incident: IncidentView,
        broadcast: BroadcastView,
        now: datetime,
    ) -> None:
        self.router = broadcaster.router
        self.base_url = broadcaster.base_url
        self.state = state
        self.incident = incident
        self.broadcast = broadcast
        self.now = now
        self.events: list[NewEvent] = []

    def plan(self, planned: list[Delivery]) -> list[NewEvent]:
        targets = self.broadcast.household_ids or [
            h.household_id for h in list(self.state.households.values())
        ]
        for household_id in targets:
            household = self.state.households.get(household_id)
            if household is None:
                continue
            # A channel the site has not configured is left out, not failed per household:
            # 10,000 "no SMS gateway configured" events would tell the board nothing.
            for channel in (ch for ch in CHANNELS if self.router.configured(ch)):
                planned.append(self._delivery(household, channel))
        return self.events

    def _delivery(self, household: HouseholdView, channel: str) -> Delivery:
        lang = household_language(household)
        shown, text, translated = text_for(
            self.broadcast.texts, self.broadcast.translated, [*household.languages, lang]
        )
        route = self._route(household, channel)
        delivery = Delivery(
            self.incident.incident_id,
            self.incident.drill,
            self.broadcast.broadcast_id,
            new_id(),
            household.household_id,
        )
        to = route.to if isinstance(route, Route) else ""
        self._event(
            "broadcast.delivery_sent",
            {
                "broadcast_id": delivery.broadcast_id,
                "delivery_id": delivery.delivery_id,
                "household_id": household.household_id,
                "channel": channel,
                "lang": shown,
                "to": to,
            },
        )
        if isinstance(route, Unreachable):
            self.events.append(
                _settled(delivery, DeliveryResult(sent=False, detail=route.reason), self.now)
            )
            return delivery
        message = self._message(channel, lang, shown, text, translated)
        delivery.sends.extend(
            (route.channel, replace(message, recipient=t.recipient)) for t in route.targets
        )
        return delivery

    def _route(self, household: HouseholdView, channel: str) -> Route | Unreachable:
        if channel == PUSH:
            return self.router.household_push_route(self.state, household.household_id)
        members = [
            p for p in list(self.state.persons.values()) if p.household_id == household.household_id
        ]
        routes = [
            self.router.route(
                self.state, p.person_id, channel, drill=self.incident.drill, now=self.now
            )
            for p in members
        ]
        reachable = [r for r in routes if isinstance(r, Route)]
        if not reachable:
            reasons = [r.reason for r in routes if isinstance(r, Unreachable)]
            return Unreachable(reasons[0] if reasons else NO_ADDRESS[channel])
        targets = tuple(t for r in reachable for t in r.targets)
        shown = ", ".join(r.to for r in reachable)
        return Route(reachable[0].channel, targets, shown[:200])

    def _message(
        self, channel: str, lang: str, shown: str, text: str, translated: bool
    ) -> OutboundMessage:
        messages = catalogue(lang)
        marker = "" if translated else f"({messages['resident.not_translated']})"
        if channel == SMS:
            body = texts.one_segment([text], [marker] if marker else [], shown)
        else:
            body = texts.join_sentences([text, marker])
        return OutboundMessage(
            channel=channel,
            recipient=Recipient(),
            title=messages["resident.instruction"],
            body=body,
            lang=shown,
            ack_url=f"{self.base_url}/{lang}/resident",
            tag=f"broadcast-{self.broadcast.broadcast_id}",
            data={
                "kind": "broadcast",
                "incident_id": self.incident.incident_id,
                "broadcast_id": self.broadcast.broadcast_id,
            },
        )

    def _event(self, type_: str, payload: JsonDict) -> None:
        self.events.append(
            NewEvent(
                type=type_,
                payload=payload,
                occurred_at=self.now,
                incident_id=self.incident.incident_id,
                drill=self.incident.drill,
            )
        )


class MarkBroadcastRead(c.Command):
    household_id: Id | None = Field(default=None, description="Default: the caller's")


def mark_read(
    actor: Actor, incident_id: str, broadcast_id: str, household_id: str, cmd: MarkBroadcastRead
) -> Decide:
    """`broadcast.read` the first time the household's app showed it; nothing after that."""

    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        broadcast = incident.broadcasts.get(broadcast_id)
        if broadcast is None or household_id in broadcast.read:
            return []
        payload = {"broadcast_id": broadcast_id, "household_id": household_id}
        return [
            new_event("broadcast.read", payload, actor=actor, cmd=cmd, now=now, incident=incident)
        ]

    return in_open_incident(incident_id, inner)
