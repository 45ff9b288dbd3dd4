"""What a running API node holds: settings, the store, and helpers to run commands."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import cached_property, partial

import structlog

from konenut.api.denials import DenialLog
from konenut.api.throttle import FailureThrottle, GuessingGuard
from konenut.app import caution
from konenut.app.identity import links_url
from konenut.config import Settings
from konenut.domain.event_types import REGISTRY
from konenut.domain.events import Event, JsonDict, Viewer, view_for
from konenut.notify.push_endpoints import PushEndpointPolicy
from konenut.notify.webpush import VapidKeys, load_or_create_vapid_keys
from konenut.store.eventstore import Decide, EventStore, IdempotencyKey, Outcome

log = structlog.get_logger(__name__)


@dataclass
class Runtime:
    settings: Settings
    store: EventStore
    migrations_at_head: bool = False
    enroll_throttle: FailureThrottle = field(default_factory=FailureThrottle)
    # Guest poster redemptions, per address and per poster (limits: the site's [guests]).
    guest_throttle: FailureThrottle = field(default_factory=FailureThrottle)
    caution_failures: int = 0  # cautions that could not be raised since this node started
    _failures_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    denials: DenialLog = field(init=False)  # audit records of 403s, one a minute per token
    guessing: GuessingGuard = field(init=False)  # wrong codes from all addresses together

    def __post_init__(self) -> None:
        self.denials = DenialLog(self.submit_quietly, self.store.clock)
        self.guessing = GuessingGuard(self.settings.code_guesses_per_min)

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
        except Exception as exc:  # the command is durable already: its caller must not get a 500
            log.exception("caution.check_failed", types=[t["type"] for t in triggers])
            self._caution_failed(site_id, triggers, exc)
            return
        if due:
            raised = self.store.submit(site_id, caution.raise_cautions(triggers))
            raised.add_done_callback(partial(self._caution_settled, site_id, triggers))

    def _caution_settled(
        self, site_id: str, triggers: list[JsonDict], raised: Future[Outcome]
    ) -> None:
        """Called by the writer once the follow-up is durable, or refused."""
        failure = None if raised.cancelled() else raised.exception()
        if failure is not None:
            self._caution_failed(site_id, triggers, failure)

    def _caution_failed(self, site_id: str, triggers: list[JsonDict], exc: BaseException) -> None:
        """A caution the rules called for was not raised: logged at error level, counted, and
        put on the log for the war room (caution.failed), who must warn the units another way.
        Runs on the writer's thread: what failed, not a traceback (slow to render)."""
        with self._failures_lock:
            self.caution_failures += 1
            failures = self.caution_failures
        types = [t["type"] for t in triggers]
        log.error(
            "caution.failed",
            site_id=site_id,
            triggers=types,
            failures=failures,
            reason=repr(exc),
            errors=getattr(exc, "errors", None),  # an invalid event: which fields
        )
        try:
            recorded = self.store.submit(site_id, caution.record_failure(triggers, exc, failures))
        except RuntimeError:  # the store is stopping: the log line above is all there is
            return
        recorded.add_done_callback(partial(_failure_unrecorded, site_id))

    def submit_quietly(self, site_id: str, decide: Decide) -> None:
        """Append without waiting (audit records of denials)."""
        self.store.submit(site_id, decide)


def _failure_unrecorded(site_id: str, recorded: Future[Outcome]) -> None:
    failure = None if recorded.cancelled() else recorded.exception()
    if failure is not None:
        log.error("caution.failure_unrecorded", site_id=site_id, exc_info=failure)


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
