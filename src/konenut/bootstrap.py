"""The composition root: builds the store with its policies, the bus, the background senders
and the Runtime, once, for every entry point (the API, the CLI, the benches, the tests).

Layering: domain < app < store / bus / notify < bootstrap < api | web < cli. The API and the
web pages both hold the `Runtime` built here (app.state.runtime), and neither imports the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import structlog

from konenut.app.accountability import Rechecker
from konenut.app.broadcaster import Broadcaster
from konenut.app.decisions import Decide, IdempotencyKey, Outcome
from konenut.app.escalator import Escalator
from konenut.app.identity import links_url
from konenut.app.policies import (
    BROADCASTING,
    CAUTION,
    ESCALATION,
    PROOF_OF_LIFE,
    Policies,
    caution_policy,
    proof_of_life_policy,
    wake_policy,
)
from konenut.app.sending import BackgroundSender
from konenut.bus.hub import StreamHub
from konenut.bus.local import LocalBus
from konenut.config import Settings
from konenut.domain.ids import utcnow
from konenut.notify.push_endpoints import PushEndpointPolicy
from konenut.notify.router import Router
from konenut.notify.webpush import VapidKeys, load_or_create_vapid_keys
from konenut.store import migrate
from konenut.store.eventstore import EventStore
from konenut.store.replica import ReplicaStore

log = structlog.get_logger(__name__)

REFRESH_INTERVAL_SECS = 1.0  # how soon events appended by another process (the CLI) show

_POLICIES: WeakKeyDictionary[EventStore, Policies] = WeakKeyDictionary()


# --- the store and its policies ------------------------------------------------------------------
def policies_of(store: EventStore) -> Policies:
    """The store's policy table (app/policies.py), installed as its listener on first use, with
    the cautions bound: every process that appends raises them. A worker process's replica
    runs none: its writer process runs them once for every event (contracts §2)."""
    policies = _POLICIES.get(store)
    if policies is None:
        policies = _POLICIES[store] = Policies(store)
        if not isinstance(store, ReplicaStore):
            policies.bind(CAUTION, caution_policy(store))
            store.subscribe(policies)
    return policies


def new_store(
    url: str, *, clock: Callable[[], datetime] = utcnow, code_key: bytes | None = None
) -> EventStore:
    """A store with its policies, neither migrated nor started."""
    store = EventStore(url, clock=clock, code_key=code_key)
    policies_of(store)
    return store


def settings_store(settings: Settings) -> EventStore:
    """The store the settings name (neither migrated nor started)."""
    return new_store(settings.resolved_database_url, code_key=settings.resolved_code_key())


def replica_store(
    settings: Settings, link_path: Path, on_link_lost: Callable[[], None] | None = None
) -> ReplicaStore:
    """An HTTP worker process's store: its writer is the process listening on `link_path`
    (konenut/processes.py). Not started: start it before serving, so that the worker takes no
    connection it could only turn away."""
    return ReplicaStore(
        settings.resolved_database_url,
        link_path,
        code_key=settings.resolved_code_key(),
        on_link_lost=on_link_lost,
    )


def open_store(
    url: str,
    *,
    clock: Callable[[], datetime] = utcnow,
    code_key: bytes | None = None,
    start: bool = True,
) -> EventStore:
    """A store on `url`, migrated to head, with its policies, started unless `start` is False
    (a server loads the projections in the background: `serving`). Close it when done."""
    store = new_store(url, clock=clock, code_key=code_key)
    try:
        migrate.upgrade(store.writer_engine)
        if start:
            store.start()
    except BaseException:
        store.close()
        raise
    return store


# --- what a running node holds -------------------------------------------------------------------
@dataclass
class Runtime:
    """A node's settings and store, and helpers to run commands (the API adds its guards)."""

    settings: Settings
    store: EventStore
    migrations_at_head: bool = False
    policies: Policies = field(init=False)

    def __post_init__(self) -> None:
        self.policies = policies_of(self.store)

    @property
    def site_id(self) -> str:
        return self.settings.site_id

    def links_url(self) -> str:
        """The base of the links this node hands out (the site's public URL, else its own)."""
        return links_url(self.store.state(self.site_id).site, self.settings.base_url())

    @cached_property
    def push_endpoints(self) -> PushEndpointPolicy:
        """Which push endpoints a device may subscribe with (the senders check again)."""
        return PushEndpointPolicy(self.settings.push_allow_hosts)

    @cached_property
    def vapid_keys(self) -> VapidKeys:
        """The site's Web Push key pair, made on first use and kept in the data dir."""
        return load_or_create_vapid_keys(self.settings.data_dir)

    async def run(self, site_id: str, decide: Decide, idem: IdempotencyKey | None) -> Outcome:
        """Hand a command to the store's writer and wait until it is durable (its policies are
        queued by then: the store's listener, app/policies.py)."""
        return await asyncio.wrap_future(self.store.submit(site_id, decide, idem))

    def submit_quietly(self, site_id: str, decide: Decide) -> None:
        """Append without waiting (audit records of denials)."""
        self.store.submit(site_id, decide)


# --- background senders --------------------------------------------------------------------------
def run_sender(store: EventStore, sender: BackgroundSender[Any], policy: str) -> bool:
    """Start a sender, woken by its policy's triggers (False: this site has one running)."""
    if not sender.start():
        return False
    policies_of(store).bind(policy, wake_policy(sender.wake))
    return True


def stop_sender(store: EventStore, sender: BackgroundSender[Any], policy: str) -> None:
    """No more wake-ups; sends in flight finish and are recorded."""
    policies_of(store).unbind(policy)
    sender.stop()


class Senders:
    """A serving node's background work: muster calls down their chains (escalator),
    broadcasts by push and SMS (broadcaster), proof of life (its timer and its policy)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.running: list[tuple[str, BackgroundSender[Any]]] = []

    async def run(self, loading: asyncio.Task[None] | None) -> None:
        """Once the projections are loaded (they say who was tried); until cancelled."""
        if loading is not None:
            await asyncio.shield(loading)
        runtime = self.runtime
        store, site_id, settings = runtime.store, runtime.site_id, runtime.settings
        if not store.started or not settings.escalate or isinstance(store, ReplicaStore):
            return  # a worker process: its writer process sends
        try:
            keys: VapidKeys | None = await asyncio.to_thread(lambda: runtime.vapid_keys)
        except Exception:  # no Web Push, but SMS and the rest still go out
            log.exception("escalator.no_vapid_keys")
            keys = None
        router = Router.from_settings(settings, keys)
        for policy, kind in ((ESCALATION, Escalator), (BROADCASTING, Broadcaster)):
            sender = kind(store, site_id, router, settings.base_url())
            self.running.append((policy, sender))  # stopped on shutdown even if mid-start
            await asyncio.to_thread(run_sender, store, sender, policy)
        runtime.policies.bind(PROOF_OF_LIFE, proof_of_life_policy())
        await Rechecker(store, site_id).run_forever()

    async def stop(self) -> None:
        """Before the store closes: outcomes in flight are recorded."""
        self.runtime.policies.unbind(PROOF_OF_LIFE)
        for policy, sender in self.running:
            await asyncio.to_thread(stop_sender, self.runtime.store, sender, policy)


@asynccontextmanager
async def serving(runtime: Runtime, hub: StreamHub, *, owns_store: bool) -> AsyncIterator[None]:
    """Everything a serving node runs beside its requests, from start to shutdown: the
    projections loading, the bus feeding the stream hub, the senders, the refresh."""
    store = runtime.store
    runtime.migrations_at_head = await asyncio.to_thread(migrate.at_head, store.writer_engine)
    # Projections load in the background: the port opens at once and /readyz says when the
    # node has caught up with the log (a large log takes seconds).
    loading = None if store.started else asyncio.create_task(_start(store))
    bus = LocalBus()  # one node; a Redis bus goes here when there are several
    await bus.start()
    store.subscribe(bus.publish)
    bus.subscribe(runtime.site_id, hub.publish)
    senders = Senders(runtime)
    tasks = [asyncio.create_task(senders.run(loading))]
    if isinstance(store, ReplicaStore):
        # A worker takes its first connection ready: it joins a node that already answers, and
        # a stream client it accepted early would be turned away (1013) meanwhile. Its writer
        # process refreshes from the log and feeds it.
        await hub.start()
    else:
        tasks.append(asyncio.create_task(_start_stream(store, loading, hub)))
        tasks.append(asyncio.create_task(_refresh_forever(runtime)))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await senders.stop()
        await hub.close()
        await bus.close()
        if loading is not None:
            await loading
        if owns_store:
            await asyncio.to_thread(store.close)


async def _start(store: EventStore) -> None:
    try:
        await asyncio.to_thread(store.start)
    except Exception:
        log.exception("store.start_failed")


async def _start_stream(
    store: EventStore, loading: asyncio.Task[None] | None, hub: StreamHub
) -> None:
    """The stream hub starts once the projections (and so the tokens) are loaded."""
    if loading is not None:
        await asyncio.shield(loading)
    if store.started:
        await hub.start()


async def _refresh_forever(runtime: Runtime) -> None:
    while True:
        await asyncio.sleep(REFRESH_INTERVAL_SECS)
        if not runtime.store.started:
            continue
        try:
            await asyncio.to_thread(runtime.store.refresh, runtime.site_id)
        except Exception:
            log.exception("refresh.failed")
