"""Policies: what the system does by itself once an event is appended, whatever appended it.

One table, event type -> the policies it triggers (cosmicpython's EVENT_HANDLERS). The store's
writer calls `Policies` with every commit's events, from any entry point: a request, an SMS
reply, the CLI, an import, a background sender, another process's events caught up with. A
policy that appends returns a command (`Decide`), submitted to the writer like any other and
queued before the triggering command's caller gets its answer; one that only wakes a sender
returns None. A policy that fails is logged at error level and counted (`failures`, shown by
/readyz); the append that triggered it stands. Which policies run in a process is bound by the
composition root (konenut/bootstrap.py): cautions everywhere, the senders where they run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import structlog

from konenut.app import accountability, caution
from konenut.app.decisions import Decide, Decision, Outcome
from konenut.app.handlers import casualties
from konenut.app.sink import CommandSink
from konenut.domain.events import Event
from konenut.domain.state import SiteState

log = structlog.get_logger(__name__)

CAUTION = "caution"  # warn the units near a threat (app/caution.py)
ESCALATION = "escalation"  # send a muster call down its chain (app/escalator.py)
BROADCASTING = "broadcasting"  # bring a broadcast to its households (app/broadcaster.py)
PROOF_OF_LIFE = "proof_of_life"  # ask again those silent too long (app/accountability.py)
CASUALTY = "casualty"  # a "need a medic" check-in or a `wounded` status opens a casualty

TABLE: dict[str, tuple[str, ...]] = {
    **{event_type: (CAUTION,) for event_type in caution.TRIGGERS},
    "muster.called": (ESCALATION,),
    "responder.status_changed": (ESCALATION, CASUALTY),  # an answer to confirm, a chain to stop
    "household.checked_in": (CAUTION, CASUALTY),
    "push.subscribed": (ESCALATION,),  # a device that can now be reached by push
    "broadcast.sent": (BROADCASTING,),
    "accountability.recheck_set": (PROOF_OF_LIFE,),
}

# A policy: given a site and the appended events that trigger it, the command to run (or None).
Run = Callable[[str, list[Event]], Decide | None]
# How a failure goes on the log for people to see: a command, given the failure and the count.
Record = Callable[[list[Event], BaseException, int], Decide]


@dataclass(frozen=True)
class Policy:
    run: Run
    record_failure: Record | None = None


class Policies:
    """The store's listener that runs the table. Bind a policy to run it in this process."""

    def __init__(self, sink: CommandSink) -> None:
        self.sink = sink
        # Replaced, never changed in place: the writer thread reads it while others bind.
        # Opening casualties needs nothing but the store: bound wherever a store has policies.
        self._bound: dict[str, Policy] = {CASUALTY: casualty_policy(sink)}
        self._failures: dict[str, int] = {}
        self._lock = threading.Lock()

    def bind(self, name: str, policy: Policy) -> None:
        self._bound = {**self._bound, name: policy}

    def unbind(self, name: str) -> None:
        self._bound = {n: p for n, p in self._bound.items() if n != name}

    @property
    def failures(self) -> dict[str, int]:
        """Failures per policy since this process started."""
        with self._lock:
            return dict(self._failures)

    def __call__(self, site_id: str, events: Sequence[Event]) -> None:
        """Store listener (writer thread): run the policies these events trigger."""
        bound = self._bound
        due: dict[str, list[Event]] = {}
        for event in events:
            for name in TABLE.get(event.type, ()):
                if name in bound:
                    due.setdefault(name, []).append(event)
        for name, triggers in due.items():
            self._run(name, bound[name], site_id, triggers)

    def _run(self, name: str, policy: Policy, site_id: str, triggers: list[Event]) -> None:
        try:
            decide = policy.run(site_id, triggers)
            if decide is None:
                return
            submitted = self.sink.submit(site_id, decide)
        except Exception as exc:  # the triggering command is durable: it stands
            self.failed(name, policy, site_id, triggers, exc)
            return
        submitted.add_done_callback(partial(self._settled, name, policy, site_id, triggers))

    def _settled(
        self,
        name: str,
        policy: Policy,
        site_id: str,
        triggers: list[Event],
        submitted: Future[Outcome],
    ) -> None:
        """Called by the writer once the policy's command is durable, or refused."""
        failure = None if submitted.cancelled() else submitted.exception()
        if failure is not None:
            self.failed(name, policy, site_id, triggers, failure)

    def failed(
        self,
        name: str,
        policy: Policy,
        site_id: str,
        triggers: list[Event],
        exc: BaseException,
    ) -> None:
        """Logged at error level, counted, and put on the log where the policy says how.
        Runs on the writer's thread: what failed, not a traceback (slow to render)."""
        with self._lock:
            failures = self._failures[name] = self._failures.get(name, 0) + 1
        log.error(
            "policy.failed",
            policy=name,
            site_id=site_id,
            triggers=sorted({t.type for t in triggers}),
            failures=failures,
            reason=repr(exc),
            errors=getattr(exc, "errors", None),  # an invalid event: which fields
        )
        if policy.record_failure is None:
            return
        try:
            recorded = self.sink.submit(site_id, policy.record_failure(triggers, exc, failures))
        except RuntimeError:  # the store is stopping: the log line above is all there is
            return
        recorded.add_done_callback(partial(_failure_unrecorded, name, site_id))


def _failure_unrecorded(name: str, site_id: str, recorded: Future[Outcome]) -> None:
    failure = None if recorded.cancelled() else recorded.exception()
    if failure is not None:
        log.error("policy.failure_unrecorded", policy=name, site_id=site_id, exc_info=failure)


def caution_policy(sink: CommandSink) -> Policy:
    """Raise the cautions the appended events call for, as a follow-up command decided again in
    the writer (an identical caution is raised once); a failure puts `caution.failed` before
    the war room, who must warn the units another way."""

    def run(site_id: str, events: list[Event]) -> Decide | None:
        triggers = caution.triggers_in(_trigger(event) for event in events)
        if not triggers:
            return None
        # A look first, on the state just committed: most positions and check-ins call for no
        # caution, and a command that decides nothing would still cost the writer a transaction.
        if not caution.cautions_after(sink.state(site_id), sink.clock(), triggers):
            return None
        return caution.raise_cautions(triggers)

    def record(events: list[Event], exc: BaseException, failures: int) -> Decide:
        triggers = caution.triggers_in(_trigger(event) for event in events)
        return caution.record_failure(triggers, exc, failures)

    return Policy(run, record)


def _trigger(event: Event) -> caution.Trigger:
    """What the caution rules read of an event: not its whole body (`to_json` formats times, on
    the writer's thread, for every check-in)."""
    return {"type": event.type, "incident_id": event.incident_id, "payload": event.payload}


def casualty_policy(sink: CommandSink) -> Policy:
    """Open a casualty for a "need a medic" check-in or a `wounded` status, as a follow-up
    decided again in the writer: a household or person with an open casualty gets no second one,
    whether the repeat came in the same batch, a later one, by SMS or from another process."""

    def run(site_id: str, events: list[Event]) -> Decide | None:
        # A look first, on the state just committed: most check-ins ask for no medic.
        if not casualties.casualties_due(sink.state(site_id), events):
            return None
        return casualties.open_casualties(events)

    return Policy(run)


def proof_of_life_policy() -> Policy:
    """A recheck just set asks at once those already silent that long (the timer, app/
    accountability.Rechecker, asks the others as they fall due)."""

    def run(site_id: str, events: list[Event]) -> Decide | None:
        incident_ids = sorted({e.incident_id for e in events if e.incident_id})
        return _together([accountability.recheck_due(i) for i in incident_ids])

    return Policy(run)


def _together(decides: list[Decide]) -> Decide | None:
    """One command that decides each of these (for different incidents) on the same state."""
    if not decides:
        return None

    def decide(state: SiteState, now: datetime) -> Decision:
        return Decision([event for d in decides for event in d(state, now).events])

    return decide


def wake_policy(wake: Callable[[], None]) -> Policy:
    """Wake a background sender (it decides itself what is due, in its own command)."""

    def run(_site_id: str, _events: list[Event]) -> Decide | None:
        wake()
        return None

    return Policy(run)
