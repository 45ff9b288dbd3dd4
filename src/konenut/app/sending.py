"""What every background sender shares (the escalator, the broadcaster): its own thread, loop
and thread pool; wake-ups when its policy's triggers are appended (app/policies.py, bound by
konenut/bootstrap.py); bounded concurrent sends; outcomes appended many per commit. A subclass
decides what to send (`tick`) and which events an outcome becomes (`_outcome_events`).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

import structlog

from konenut.app.channels import (
    SEND_TIMEOUT_SECS,
    DeliveryResult,
    OutboundMessage,
    Recipient,
)
from konenut.app.channels import Channel as Sender
from konenut.app.decisions import Decision
from konenut.app.routing import Router
from konenut.app.sink import CommandSink
from konenut.domain.events import NewEvent
from konenut.domain.state import SiteState

log = structlog.get_logger(__name__)

TICK_SECS = 1.0
MAX_CONCURRENT_SENDS = 64  # also the size of each sender's own thread pool
STOP_GRACE_SECS = SEND_TIMEOUT_SECS + 2.0  # sends in flight may finish on shutdown
# Outcomes are appended at most this long after they come in, many per commit: a commit per
# outcome would take the CPU the other sends need (bench/muster.py).
FLUSH_BATCH_SECS = 0.1
RETRY_FLUSH_SECS = 1.0  # outcomes kept in memory while the store is unavailable

OutcomeT = TypeVar("OutcomeT")


@dataclass(frozen=True)
class GoneSubscription:
    """A push service said this device's subscription no longer exists (404/410)."""

    person_id: str
    token_id: str
    endpoint: str
    reason: str


def gone_subscription(
    recipient: Recipient, token_id: str | None, result: DeliveryResult
) -> GoneSubscription | None:
    """The subscription to drop after this send, if the push service said it is gone."""
    subscription = recipient.push_subscription
    if not result.gone or token_id is None or subscription is None:
        return None
    return GoneSubscription(recipient.person_id, token_id, subscription.endpoint, result.detail)


def unsubscribe_events(
    state: SiteState, gone: Iterable[GoneSubscription], now: datetime
) -> list[NewEvent]:
    """`push.unsubscribed` once per device, and only for the endpoint that failed: the device
    may have subscribed again since."""
    events: list[NewEvent] = []
    dropped: set[str] = set()
    for g in gone:
        current = state.push_subscriptions.get(g.token_id)
        if current is None or current.endpoint != g.endpoint or g.token_id in dropped:
            continue
        dropped.add(g.token_id)
        payload = {"person_id": g.person_id, "token_id": g.token_id, "reason": g.reason[:300]}
        events.append(NewEvent(type="push.unsubscribed", payload=payload, occurred_at=now))
    return events


class BackgroundSender(Generic[OutcomeT]):
    """One of each kind per site and store in a process. `start()` runs it on its own thread."""

    name: ClassVar[str]  # "escalator", "broadcaster": log events and thread names
    _running: ClassVar[set[tuple[str, str, str]]] = set()  # (kind, store url, site)
    _running_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        store: CommandSink,
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
        self.base_url = base_url.rstrip("/")  # links' base if the site sets no public URL
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
        self._outcomes: list[OutcomeT] = []
        self._key = (self.name, store.url, site_id)
        self._setup()

    def _setup(self) -> None:
        """A subclass's own fields."""

    # --- what a subclass decides -------------------------------------------------------------
    async def tick(self) -> int:
        """Record and start whatever is due now; returns how many were recorded."""
        raise NotImplementedError

    def _outcome_events(
        self, state: SiteState, pending: list[OutcomeT], now: datetime
    ) -> list[NewEvent]:
        """The events that record these outcomes (runs on the store's writer)."""
        raise NotImplementedError

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> bool:
        """Start sending; False (and nothing started) if this site already has one running."""
        with BackgroundSender._running_lock:
            if self._key in BackgroundSender._running:
                log.warning(f"{self.name}.already_running", site_id=self.site_id)
                return False
            BackgroundSender._running.add(self._key)
        self._thread = threading.Thread(
            target=self._serve, name=f"konenut-{self.name}-{self.site_id}", daemon=True
        )
        self._thread.start()
        self._ready.wait()
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
            log.exception(f"{self.name}.stop_failed", site_id=self.site_id)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = None
        with BackgroundSender._running_lock:
            BackgroundSender._running.discard(self._key)

    def run_once(self, timeout: float = 60.0) -> int:
        """One tick, then wait until its sends are done and their outcomes recorded."""
        if self._loop is None:
            raise RuntimeError(f"{type(self).__name__}.start() was not called")
        future = asyncio.run_coroutine_threadsafe(self._tick_and_settle(), self._loop)
        return future.result(timeout)

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        loop.set_default_executor(
            ThreadPoolExecutor(self.concurrency, thread_name_prefix=f"konenut-{self.name}")
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

    def wake(self) -> None:
        """Tick at once (any thread): its policy's triggers were appended (app/policies.py)."""
        loop, wake = self._loop, self._wake
        if self._stopping or loop is None or wake is None:
            return
        # RuntimeError: the loop closed while the store kept appending.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(wake.set)

    async def _shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._deliveries:
            _, pending = await asyncio.wait(set(self._deliveries), timeout=STOP_GRACE_SECS)
            for task in pending:
                task.cancel()  # their attempts count as failed once stale
        try:
            await self._flush()
        except Exception:
            log.exception(f"{self.name}.final_flush_failed", site_id=self.site_id)

    async def _tick_forever(self) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()
            try:
                await self.tick()
            except Exception:  # the store is away, a bug in one item: try again next tick
                log.exception(f"{self.name}.tick_failed", site_id=self.site_id)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.tick_secs):
                    await self._wake.wait()

    async def _tick_and_settle(self) -> int:
        recorded = await self.tick()
        while self._deliveries:
            await asyncio.gather(*set(self._deliveries), return_exceptions=True)
        await self._flush()
        return recorded

    # --- sending and outcomes ----------------------------------------------------------------
    def _start_delivery(self, delivery: Coroutine[Any, Any, None]) -> None:
        """Run a delivery on the loop, kept until done (shutdown and run_once wait for it)."""
        task = asyncio.get_running_loop().create_task(delivery)
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _send(self, sender: Sender, message: OutboundMessage) -> DeliveryResult:
        assert self._gate is not None
        async with self._gate:
            try:
                return await sender.send(message)
            except Exception as exc:  # the Channel protocol says it never raises; be sure
                log.exception(f"{self.name}.channel_raised", channel=sender.name)
                return DeliveryResult(sent=False, detail=f"{type(exc).__name__}: {exc}")

    def _collect(self, outcomes: Iterable[OutcomeT]) -> None:
        """Outcomes to append with the next batch."""
        self._outcomes.extend(outcomes)
        assert self._flush_wake is not None
        self._flush_wake.set()

    async def _flush_forever(self) -> None:
        assert self._flush_wake is not None
        while True:
            await self._flush_wake.wait()
            await asyncio.sleep(FLUSH_BATCH_SECS)  # let outcomes gather: one commit for many
            self._flush_wake.clear()
            try:
                await self._flush()
            except Exception:
                log.exception(f"{self.name}.outcomes_not_recorded", site_id=self.site_id)
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
                return Decision(self._outcome_events(state, pending, now))

            try:
                await asyncio.wrap_future(self.store.submit(self.site_id, decide))
            except BaseException:
                self._outcomes[:0] = pending
                raise
