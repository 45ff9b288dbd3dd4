"""Each site's stream hub: one shared buffer of recent events, a cursor per client."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import operator
import random
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

import orjson
import structlog

from konenut.domain.event_types import REGISTRY
from konenut.domain.events import Event, EventType, Scope, Viewer, shaped, visibility_for

log = structlog.get_logger(__name__)

# --- limits (module constants, read when a hub is built, so tests can lower them) ------------
BUFFER_EVENTS = 8_192  # per site: ~40 s of 200 units reporting every second; further behind: resync
MAX_REPLAY_EVENTS = 10_000  # further behind than this, re-reading state over REST is cheaper
REPLAY_PAGE_EVENTS = 1_000  # events read from the log per query while replaying
REPLAY_CONCURRENCY = 4  # replays reading the log at once: a mass reconnect must not starve writes
MAX_BATCH_EVENTS = 256  # events one client sends in a turn before the others get the loop
HEARTBEAT_SECS = 25.0  # under the 30-60 s after which NATs and proxies drop a silent connection
HEARTBEAT_JITTER_SECS = 5.0  # +/- per beat, so phones that reconnected together do not beat in step
IDLE_TIMEOUT_SECS = 75.0  # three heartbeats without a word from the client: it is gone
SWEEP_SECS = 1.0  # how often heartbeats, idle clients and the log head are checked
# How often the streams of tokens with an expiry (a liaison's, a volunteer's pass) are checked:
# an expired pass must stop within a second, and only those few streams are looked at.
EXPIRY_CHECK_SECS = 0.25
CLOSE_TIMEOUT_SECS = 5.0  # a close frame a dead peer never reads must not hold a task forever
LIVE_COALESCE_SECS = 0.0  # positions held this long for live clients too (0: sent at once)
PROGRESS_SECS = 1.0  # a broadcast's delivery counts go out at most this often: a board, not a feed
# Live clients sent a batch per turn of the event loop: the HTTP answer of the command that
# appended it (issue 13: a broadcast POST waited for 5,000 sends) and every other request wait
# for one share, not for the whole fan-out.
PUSH_SHARE_CLIENTS = 250

# Types sent only as their latest event per unit to a client that is behind: type -> the
# payload field naming the unit (positions move; only where a unit is now matters).
COALESCED_BY: dict[str, str] = {"position.reported": "subject_id"}
# Per-household bookkeeping of a broadcast: type -> the payload field naming the broadcast. A
# household's own page gets its own as events (its audience rule's scope is OWN); every other
# viewer gets them folded into one `progress` frame per broadcast, its counts per state, at most
# every PROGRESS_SECS: 10,000 households' outcomes are numbers on the squad's board, not 20,000
# frames to every squad phone (issue 13: that bookkeeping cost 17 s of CPU per broadcast).
FOLDED_BY: dict[str, str] = {
    "broadcast.delivery_sent": "broadcast_id",
    "broadcast.delivery_settled": "broadcast_id",
    "broadcast.read": "broadcast_id",
}
# What of a viewer, besides its roles, decides whether it sees an event through an audience rule
# of this scope (domain/events.py _in_scope): viewers alike in these share one list of frames.
SCOPE_FIELDS: dict[Scope, tuple[str, ...]] = {
    Scope.ALL: (),
    Scope.INCIDENT: ("incident_id",),
    Scope.TARGETED: ("incident_id", "household_id", "subject_id"),
    Scope.OWN: ("incident_id", "household_id", "subject_id"),
}
# Events after which every open stream's token is checked again: a revoked device is cut off
# before the batch goes out; passes of a closed incident get the closing news, then are closed.
# A person's devices follow the registry (domain/state/devices.py): one taken off the squad is
# cut off, one moved to another household streams again as its new self.
CHECK_TOKENS_BEFORE: frozenset[str] = frozenset({"token.revoked", "person.updated"})
CHECK_TOKENS_AFTER: frozenset[str] = frozenset({"incident.closed"})

CLOSE_GOING_AWAY = 1001
CLOSE_INTERNAL_ERROR = 1011
CLOSE_UNAUTHORISED = 4401
CLOSE_IDLE = 4408
CLOSE_IDENTITY_CHANGED = 4409  # the token now stands for other roles or another household

Reader = Callable[[int, int], Awaitable[list[Event]]]  # (since, limit) -> events after since
Authorise = Callable[[str], str | None]  # token id -> why it may no longer stream, or None
Identify = Callable[[str], Viewer | None]  # token id -> whom it stands for now (None: unknown)
# (incident id, broadcast id) -> its counts per state, from the projection (None: no such one)
Progress = Callable[[str | None, str], dict[str, int] | None]


@dataclass(frozen=True)
class StreamLimits:
    """How much a hub holds and how often it beats (defaults: the module constants)."""

    buffer_events: int
    max_replay_events: int
    heartbeat_secs: float
    heartbeat_jitter_secs: float
    idle_timeout_secs: float
    sweep_secs: float
    # Live clients get positions after this window, only the latest per unit (0: at once).
    coalesce_secs: float = 0.0

    @classmethod
    def defaults(cls) -> StreamLimits:
        return cls(
            buffer_events=BUFFER_EVENTS,
            max_replay_events=MAX_REPLAY_EVENTS,
            heartbeat_secs=HEARTBEAT_SECS,
            heartbeat_jitter_secs=HEARTBEAT_JITTER_SECS,
            idle_timeout_secs=IDLE_TIMEOUT_SECS,
            sweep_secs=SWEEP_SECS,
            coalesce_secs=LIVE_COALESCE_SECS,
        )


class Sink(Protocol):
    """Where a client's frames go (the WebSocket; a list in unit tests)."""

    async def send(self, frame: str) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...


def control(type_: str, seq: int, **fields: Any) -> str:
    """A control message (its type has no dot, unlike event types)."""
    return orjson.dumps({"type": type_, "seq": seq, **fields}).decode()


class Entry:
    """An event in the buffer, with its frame encoded once per shape it is seen in."""

    __slots__ = ("etype", "event", "folded", "frames", "superseded")

    def __init__(self, event: Event, *, fold: bool = False) -> None:
        self.event = event
        self.etype: EventType | None = REGISTRY.get(event.type)  # unknown types reach nobody
        self.frames: dict[tuple[frozenset[str], bool], str] = {}
        self.superseded = False  # a later event of the same unit is buffered (coalescing)
        self.folded = fold and event.type in FOLDED_BY  # into `progress`, but for its own household

    @property
    def progress_key(self) -> tuple[str | None, str]:
        """The broadcast whose counts this folded entry moves: (incident id, broadcast id)."""
        return self.event.incident_id, str(self.event.payload.get(FOLDED_BY[self.event.type]))

    @property
    def seq(self) -> int:
        return self.event.seq

    def frame_for(self, viewer: Viewer) -> str | None:
        """The event as this viewer may see it, encoded; None when it must not reach them.

        Viewers that see it through the same visibility (hidden fields, envelope) share one
        encoding, so an event is serialised once per audience, not once per client.
        """
        if self.etype is None:
            return None
        seen = visibility_for(self.event, self.etype, viewer)
        if seen is None or (self.folded and seen.scope is not Scope.OWN):
            return None
        shape = (seen.hide, seen.envelope)
        frame = self.frames.get(shape)
        if frame is None:
            frame = orjson.dumps(shaped(self.event, self.etype, seen)).decode()
            self.frames[shape] = frame
        return frame

    def folded_for(self, viewer: Viewer) -> bool:
        """Whether this viewer gets this entry as progress counts rather than as the event."""
        if not self.folded or self.etype is None:
            return False
        seen = visibility_for(self.event, self.etype, viewer)
        return seen is not None and seen.scope is not Scope.OWN


@functools.cache
def viewer_fields(event_type: str) -> tuple[str, ...]:
    """The viewer's fields, besides its roles, that decide what it sees of an event type."""
    etype = REGISTRY.get(event_type)
    scopes = {seen.scope for seen in etype.audience.values()} if etype else set()
    return tuple(sorted({name for scope in scopes for name in SCOPE_FIELDS[scope]}))


# A viewer's own id that no entry of a span names: every such viewer sees the same of it.
_NAMED_BY_NONE = ("named by no entry",)
_OWN_IDS = ("household_id", "subject_id")


def audience_key(entries: Iterable[Entry]) -> Callable[[Viewer], Hashable]:
    """A viewer's audience shape for these entries: viewers with one key get the same frames,
    so a batch is filtered and encoded once per shape (role x scope), not once per client.

    A household's or person's own id counts only if some entry names it (domain/events.py
    `_in_scope` compares it with those names and nothing else): the thousands of residents a
    batch of check-ins does not concern share one shape, not one each.
    """
    entries = list(entries)
    names = sorted({name for entry in entries for name in viewer_fields(entry.event.type)})
    if not set(_OWN_IDS) & set(names):
        return operator.attrgetter("roles", *names)
    named = ids_named(entries)
    plain = operator.attrgetter(*[n for n in names if n not in _OWN_IDS] or ["roles"])

    def key(viewer: Viewer) -> Hashable:
        household, subject = viewer.household_id, viewer.subject_id
        return (
            viewer.roles,
            plain(viewer),
            household if household is None or household in named else _NAMED_BY_NONE,
            subject if subject is None or subject in named else _NAMED_BY_NONE,
        )

    return key


def ids_named(entries: Iterable[Entry]) -> frozenset[str]:
    """Every household or person id the entries' own-or-targeted audience rules compare a
    viewer's ids with (the targets, the subject, the household)."""
    named: set[str] = set()
    for entry in entries:
        event = entry.event
        etype = REGISTRY.get(event.type)
        if etype is None:
            continue
        scopes = {seen.scope for seen in etype.audience.values()}
        if Scope.TARGETED in scopes:
            named.update(str(t) for t in event.payload.get(etype.targets_field or "") or [])
        if Scope.OWN in scopes:
            subject = event.payload.get(etype.subject_field) if etype.subject_field else event.actor
            household = event.payload.get(etype.household_field) if etype.household_field else None
            named.update(str(v) for v in (subject, household) if v is not None)
    return frozenset(named)


def coalesce_key(event: Event) -> tuple[str | None, Any] | None:
    """The unit an event is the latest news of (per incident), for coalesced types."""
    field = COALESCED_BY.get(event.type)
    return None if field is None else (event.incident_id, event.payload.get(field))


def mark_superseded(entries: Iterable[Entry], latest: dict[tuple[str | None, Any], Entry]) -> None:
    """Mark each coalesced entry that a later one of the same unit replaces."""
    for entry in entries:
        key = coalesce_key(entry.event)
        if key is None:
            continue
        previous = latest.get(key)
        if previous is not None:
            previous.superseded = True
        latest[key] = entry


def frames_for(entries: Sequence[Entry], viewer: Viewer, last_seq: int) -> list[str]:
    """What a viewer gets of these entries: superseded positions left out, then counted."""
    frames: list[str] = []
    dropped = 0
    for entry in entries:
        frame = entry.frame_for(viewer)
        if frame is None:
            continue
        if entry.superseded:
            dropped += 1
        else:
            frames.append(frame)
    if dropped:  # after the batch: a client that drops seqs it has seen keeps the batch
        frames.append(control("coalesced", last_seq, dropped=dropped))
    return frames


def start_eagerly(work: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run `work` now, up to its first real wait; only then does the rest become a task.

    Sending to a healthy connection never waits (the write is buffered), so most clients get
    an event without a task being created, scheduled and garbage-collected: at 5,000 clients
    those tasks cost more CPU than the sends. (Python 3.12 has this built in:
    `asyncio.Task(work, eager_start=True)`; we support 3.11.)
    """
    try:
        waiting_on = work.send(None)
    except StopIteration:
        return None
    return asyncio.create_task(_carry_on(work, waiting_on))


async def _carry_on(work: Coroutine[Any, Any, None], waiting_on: Any) -> None:
    """Drive a coroutine that was started by hand and yielded `waiting_on` to the loop."""
    while True:
        try:
            if waiting_on is None:  # a bare yield: it only let others run
                await asyncio.sleep(0)
            else:  # a future: wait for it; the coroutine reads its outcome when resumed
                await asyncio.wait([waiting_on])
        except BaseException as exc:  # cancelled while waiting: it must see that where it waits
            step = functools.partial(work.throw, exc)
        else:
            step = functools.partial(work.send, None)
        try:
            waiting_on = step()
        except StopIteration:
            return


class EventRing:
    """The last `capacity` events of a site, addressed by seq (a site's seqs have no gaps)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._slots: list[Entry | None] = [None] * capacity
        self.head = 0  # the newest seq held, or the log head the ring starts after
        self.first = 1  # the oldest seq held; first > head when empty

    def reset(self, head: int) -> None:
        """Empty, starting after `head`."""
        self._slots = [None] * self.capacity
        self.head, self.first = head, head + 1

    def append(self, entry: Entry) -> None:
        if entry.seq != self.head + 1:
            raise ValueError(f"seq {entry.seq} does not follow {self.head}")
        self._slots[entry.seq % self.capacity] = entry
        self.head = entry.seq
        self.first = max(self.first, self.head - self.capacity + 1)

    def get(self, seq: int) -> Entry:
        entry = self._slots[seq % self.capacity]
        if entry is None or entry.seq != seq or not self.first <= seq <= self.head:
            raise KeyError(seq)
        return entry

    def between(self, after: int, last: int) -> list[Entry]:
        """Entries with after < seq <= last (all held)."""
        return [self.get(seq) for seq in range(after + 1, last + 1)]


class Span:
    """The ring's entries after one seq up to another, with what each audience shape gets of
    them: clients at the same cursor share one filtering and encoding of what comes next."""

    __slots__ = ("_frames", "_shape_of", "entries", "last")

    def __init__(self, entries: list[Entry], last: int) -> None:
        self.entries = entries
        self.last = last
        self._shape_of = audience_key(entries)
        self._frames: dict[Hashable, list[str]] = {}  # audience shape -> its frames

    def frames_for(self, viewer: Viewer) -> list[str]:
        """The viewer's frames (shared: the caller copies before adding to them)."""
        shape = self._shape_of(viewer)
        frames = self._frames.get(shape)
        if frames is None:
            frames = self._frames[shape] = frames_for(self.entries, viewer, self.last)
        return frames


class Phase(Enum):
    REPLAYING = "replaying"  # the connection's own task sends what it missed
    LIVE = "live"  # the hub wakes it for new events
    CLOSED = "closed"


class StreamClient:
    """One connection: what it may see, how far it got, when it was last heard from.

    Deliberately small (a few hundred bytes): the shared buffer holds the events and their
    encodings, a client holds only its cursor.
    """

    __slots__ = (
        "cursor",
        "last_heard",
        "next_ping_at",
        "phase",
        "ping_due",
        "queued",
        "sink",
        "task",
        "token_id",
        "viewer",
    )

    def __init__(self, token_id: str, viewer: Viewer, sink: Sink, now: float) -> None:
        self.token_id = token_id
        self.viewer = viewer
        self.sink = sink
        self.cursor = 0  # everything up to this seq was sent, or was not for this client
        self.phase = Phase.REPLAYING
        self.last_heard = now
        self.next_ping_at = now
        self.ping_due = False
        self.queued: list[str] | None = None  # progress frames that came while it was sending
        self.task: asyncio.Task[None] | None = None  # sending right now, if at all


class StreamHub:
    """Fans a site's events out to its stream clients (docs/stream.md).

    The bus hands each committed batch to `publish`; the hub keeps the last events in a ring
    shared by all clients and wakes each live client whose cursor is behind. A client that is
    behind gets positions coalesced; one whose cursor fell out of the ring gets `resync`.
    Given `progress`, a broadcast's per-household bookkeeping reaches everyone but the household
    itself as that broadcast's counts: one `progress` frame at most every PROGRESS_SECS.
    With `limits.coalesce_secs`, batches of nothing but positions are held for that window
    (one timer per hub, not per client) and then go out as the latest per unit; any other
    event sends what is held at once, ahead of itself, so nothing else waits or is reordered.
    """

    def __init__(
        self,
        site_id: str,
        *,
        read: Reader,
        latest_seq: Callable[[], int],
        authorise: Authorise,
        identify: Identify | None = None,
        progress: Progress | None = None,
        limits: StreamLimits | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.site_id = site_id
        self.limits = limits or StreamLimits.defaults()
        self._read = read
        self._latest_seq = latest_seq
        self._authorise = authorise
        self._identify = identify
        self._progress = progress
        self._clock = clock
        self._ring = EventRing(self.limits.buffer_events)
        self._latest: dict[tuple[str | None, Any], Entry] = {}  # last entry per coalesced unit
        # (cursor, last seq) -> that span, until the next append (which may supersede a position)
        self._spans: dict[tuple[int, int], Span] = {}
        self._clients: set[StreamClient] = set()
        self._expiring: set[StreamClient] = set()  # clients whose token has an expiry
        self._pending: list[Event] = []  # arrived while the gap before them is read
        self._filling = True  # until `start` has loaded the ring
        self._behind_at_last_sweep = False
        self._replays: asyncio.Semaphore | None = None  # made on the loop, in `start`
        self._background: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._expirer: asyncio.Task[None] | None = None
        self._held_after: int | None = None  # positions after this seq wait for the window
        self._flush_timer: asyncio.TimerHandle | None = None
        # Broadcasts whose bookkeeping moved since their last `progress` -> their latest entry.
        self._progress_due: dict[tuple[str | None, str], Entry] = {}
        self._progress_timer: asyncio.TimerHandle | None = None
        self._progress_sent_at = float("-inf")  # loop time of the last `progress` round
        self.started = False  # clients are turned away until the ring is loaded

    # --- lifecycle ---------------------------------------------------------------------------
    @property
    def head(self) -> int:
        return self._ring.head

    @property
    def clients(self) -> int:
        return len(self._clients)

    def now(self) -> float:
        return self._clock() if self._clock else asyncio.get_running_loop().time()

    async def start(self) -> None:
        """Load the newest events into the ring, then start the heartbeat sweep."""
        self._replays = asyncio.Semaphore(REPLAY_CONCURRENCY)
        head = self._latest_seq()
        self._ring.reset(head)
        size = self.limits.buffer_events
        try:
            recent = await self._read(max(0, head - size), size)
        except Exception:  # an empty ring still works: clients replay from the log
            log.exception("stream.preload_failed", site_id=self.site_id)
            recent = []
        if recent:
            self._ring.reset(recent[0].seq - 1)
            self._append_all(recent)
        self._filling = False
        self._take_pending()
        self._sweeper = asyncio.create_task(self._sweep_forever())
        self._expirer = asyncio.create_task(self._expire_forever())
        self.started = True

    async def close(self) -> None:
        """Stop sweeping and close every stream (the node is going away)."""
        for task in (self._sweeper, self._expirer):
            if task is not None:
                task.cancel()
        self._sweeper = self._expirer = None
        self._cancel_flush()
        if self._progress_timer is not None:
            self._progress_timer.cancel()
            self._progress_timer = None
        for client in list(self._clients):
            self._close(client, CLOSE_GOING_AWAY, "the server is shutting down")
        if self._background:
            await asyncio.wait(list(self._background), timeout=CLOSE_TIMEOUT_SECS)
        for task in list(self._background):
            task.cancel()

    # --- events in ---------------------------------------------------------------------------
    def publish(self, events: Sequence[Event]) -> None:
        """A committed batch of the site's events (the bus calls this on the event loop)."""
        if self._filling:
            self._pending.extend(events)
            return
        before = self._ring.head
        for index, event in enumerate(events):
            if event.seq <= self._ring.head:
                continue  # delivered twice (the log was read meanwhile)
            if event.seq != self._ring.head + 1:  # appended elsewhere: read the gap from the log
                self._pending.extend(events[index:])
                self._start_fill()
                break
            self._append(event)
        self._after_append(before)

    def _append(self, event: Event) -> None:
        entry = self._entry(event)
        self._ring.append(entry)
        if self._spans:
            self._spans.clear()
        mark_superseded((entry,), self._latest)
        if entry.folded:
            self._progress_moved(entry)

    def _entry(self, event: Event) -> Entry:
        return Entry(event, fold=self._progress is not None)

    def _append_all(self, events: Sequence[Event]) -> None:
        for event in events:
            if event.seq == self._ring.head + 1:
                self._append(event)

    def _after_append(self, before: int) -> None:
        """Push what was just appended (after what is held back, if anything) to live clients."""
        if self._ring.head == before:
            return
        only_positions = self.limits.coalesce_secs > 0 and self._only_positions(before)
        if self._held_after is not None:  # this push takes what is held along, in seq order
            if only_positions:
                return  # the window's timer sends them
            before = max(self._held_after, self._ring.first - 1)
            self._held_after = None
            self._cancel_flush()
        elif only_positions:
            self._held_after = before
            loop = asyncio.get_running_loop()
            self._flush_timer = loop.call_later(self.limits.coalesce_secs, self._flush_held)
            return
        self._push(before)

    def _only_positions(self, after: int) -> bool:
        """Whether everything after `after` is a coalesced type (positions)."""
        ring = self._ring
        seqs = range(max(after, ring.first - 1) + 1, ring.head + 1)
        return all(coalesce_key(ring.get(seq).event) is not None for seq in seqs)

    def _flush_held(self) -> None:
        """The window is over: send the held positions, the latest per unit."""
        self._flush_timer = None
        before, self._held_after = self._held_after, None
        if before is not None:
            self._push(max(before, self._ring.first - 1))

    def _cancel_flush(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None

    def _push(self, before: int) -> None:
        """Push the entries after `before` to every live client that is not sending already:
        PUSH_SHARE_CLIENTS of them now, the others a share per turn of the loop."""
        ring = self._ring
        if ring.head == before:
            return
        types = {entry.event.type for entry in ring.between(max(before, ring.first - 1), ring.head)}
        if types & CHECK_TOKENS_BEFORE:
            self._reauthorise_all()
        clients = list(self._clients)
        if types & CHECK_TOKENS_AFTER:  # the closing news reaches everyone before the check
            self._wake_all(clients)
            self._reauthorise_all()
            return
        self._wake_all(clients[:PUSH_SHARE_CLIENTS])
        if len(clients) > PUSH_SHARE_CLIENTS:
            self._spawn(self._wake_rest(clients[PUSH_SHARE_CLIENTS:]))

    async def _wake_rest(self, clients: list[StreamClient]) -> None:
        for start in range(0, len(clients), PUSH_SHARE_CLIENTS):
            await asyncio.sleep(0)  # the loop's other work first: an HTTP answer, a read
            self._wake_all(clients[start : start + PUSH_SHARE_CLIENTS])

    def _wake_all(self, clients: list[StreamClient]) -> None:
        for client in clients:
            self._wake(client)

    def _take_pending(self) -> None:
        pending, self._pending = self._pending, []
        if pending:
            self.publish(pending)

    def _start_fill(self) -> None:
        if not self._filling:
            self._filling = True
            self._spawn(self._fill())

    async def _fill(self) -> None:
        """Read events appended elsewhere (another process, another node) from the log."""
        before = self._ring.head
        failed = False
        try:
            target = self._pending[0].seq - 1 if self._pending else self._latest_seq()
            if target - self._ring.head > self.limits.buffer_events:
                self._ring.reset(target - self.limits.buffer_events)  # those behind will resync
                before = self._ring.head
            while self._ring.head < target:
                limit = min(target - self._ring.head, REPLAY_PAGE_EVENTS)
                page = await self._read(self._ring.head, limit)
                if not page:
                    break
                self._append_all(page)
        except Exception:  # the next event or sweep tries again
            log.exception("stream.fill_failed", site_id=self.site_id)
            failed = True
        finally:
            self._filling = False
        self._after_append(before)
        if not failed:
            self._take_pending()

    # --- clients -----------------------------------------------------------------------------
    def join(
        self, token_id: str, viewer: Viewer, sink: Sink, *, expires: bool = False
    ) -> StreamClient:
        """Register a connection that has authenticated; `catch_up` then makes it live.
        `expires`: its token has an expiry, checked every EXPIRY_CHECK_SECS."""
        now = self.now()
        client = StreamClient(token_id, viewer, sink, now)
        client.next_ping_at = now + self._beat()
        self._clients.add(client)
        if expires:
            self._expiring.add(client)
        return client

    def heard(self, client: StreamClient) -> None:
        """The client said something (any message counts as a sign of life)."""
        client.last_heard = self.now()

    def leave(self, client: StreamClient) -> None:
        """The connection ended: forget the client and stop sending to it."""
        client.phase = Phase.CLOSED
        self._clients.discard(client)
        self._expiring.discard(client)
        task, client.task = client.task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def catch_up(self, client: StreamClient, since: int) -> None:
        """Send what the client missed after `since`, then `live`; from then on the hub pushes."""
        client.cursor = since
        if since > self._ring.head:  # a log this client never saw (the server's data was reset)
            client.cursor = self._ring.head
            await client.sink.send(control("resync", client.cursor))
        await self._replay_from_log(client)
        while client.phase is Phase.REPLAYING:
            frames = self.take(client)
            if not frames:
                break
            for frame in frames:
                await client.sink.send(frame)
        if client.phase is not Phase.REPLAYING:
            return
        await client.sink.send(control("live", client.cursor))
        if client.phase is Phase.REPLAYING:
            client.phase = Phase.LIVE
            self._wake(client)

    async def _replay_from_log(self, client: StreamClient) -> None:
        """Send what the ring no longer holds from the log, or `resync` if that is too much."""
        while client.cursor + 1 < self._ring.first and client.phase is Phase.REPLAYING:
            if self._ring.head - client.cursor > self.limits.max_replay_events:
                await self._resync(client)
                return
            limit = min(REPLAY_PAGE_EVENTS, self._ring.first - 1 - client.cursor)
            assert self._replays is not None, "start() was not called"
            async with self._replays:
                events = await self._read(client.cursor, limit)
            if not events:
                await self._resync(client)
                return
            entries = [self._entry(event) for event in events]
            mark_superseded(entries, {})
            for frame in frames_for(entries, client.viewer, events[-1].seq):
                await client.sink.send(frame)
            client.cursor = events[-1].seq

    async def _resync(self, client: StreamClient) -> None:
        client.cursor = self._ring.head
        await client.sink.send(control("resync", client.cursor))

    def take(self, client: StreamClient) -> list[str]:
        """The next frames for a client, advancing its cursor (no I/O)."""
        frames: list[str] = []
        ring = self._ring
        if client.cursor < ring.head:
            if client.cursor + 1 < ring.first:  # what it needs next is gone: tell it, never drop it
                client.cursor = ring.head
                frames.append(control("resync", ring.head))
            else:  # a span with nothing for this client is passed over, not an end
                while not frames and client.cursor < ring.head:
                    last = min(ring.head, client.cursor + MAX_BATCH_EVENTS)
                    frames = list(self._span(client.cursor, last).frames_for(client.viewer))
                    client.cursor = last
        if client.queued:
            frames += client.queued
            client.queued = None
        if client.ping_due:
            client.ping_due = False
            frames.append(control("ping", client.cursor))
        return frames

    def _span(self, after: int, last: int) -> Span:
        span = self._spans.get((after, last))
        if span is None:
            span = self._spans[after, last] = Span(self._ring.between(after, last), last)
        return span

    def _wake(self, client: StreamClient) -> None:
        """Start sending to a live client that has something to send and is not sending."""
        if client.phase is not Phase.LIVE or client.task is not None:
            return
        if client.cursor < self._ring.head or client.ping_due:
            client.task = start_eagerly(self._drain(client, []))

    async def _drain(self, client: StreamClient, frames: list[str]) -> None:
        """Send `frames`, then whatever else the client is behind on, until it is caught up."""
        try:
            while client.phase is Phase.LIVE:
                for frame in frames:
                    await client.sink.send(frame)
                if len(frames) >= MAX_BATCH_EVENTS:
                    await asyncio.sleep(0)  # a long backlog must not hold the loop
                frames = self.take(client)
                if not frames:
                    return
        except Exception:  # usually the connection is gone; never leave a client silently stuck
            log.debug("stream.send_failed", site_id=self.site_id, exc_info=True)
            self._close(client, CLOSE_INTERNAL_ERROR, "the server could not send to this stream")
        finally:
            client.task = None

    # --- broadcast progress -------------------------------------------------------------------
    def _progress_moved(self, entry: Entry) -> None:
        """A broadcast's bookkeeping moved: its counts go out with the next progress round."""
        self._progress_due[entry.progress_key] = entry
        if self._progress_timer is None:
            loop = asyncio.get_running_loop()
            wait_secs = max(0.0, self._progress_sent_at + PROGRESS_SECS - loop.time())
            self._progress_timer = loop.call_later(wait_secs, self._send_progress)

    def _send_progress(self) -> None:
        """Each broadcast whose bookkeeping moved: its counts, encoded once, to its viewers."""
        self._progress_timer = None
        self._progress_sent_at = asyncio.get_running_loop().time()
        due, self._progress_due = self._progress_due, {}
        for (incident_id, broadcast_id), entry in due.items():
            try:
                counts = self._progress(incident_id, broadcast_id) if self._progress else None
            except Exception:  # the projection moved under us: the next round tells
                log.exception("stream.progress_failed", site_id=self.site_id)
                continue
            if counts is not None:
                frame = control(
                    "progress",
                    self._ring.head,
                    incident_id=incident_id,
                    broadcast_id=broadcast_id,
                    counts=counts,
                )
                self._send_to_folded(entry, frame)

    def _send_to_folded(self, entry: Entry, frame: str) -> None:
        """Send `frame` to every live client that gets `entry` folded (decided once per shape)."""
        shape_of = audience_key((entry,))
        folded: dict[Hashable, bool] = {}
        for client in list(self._clients):
            if client.phase is not Phase.LIVE:
                continue
            shape = shape_of(client.viewer)
            if shape not in folded:
                folded[shape] = entry.folded_for(client.viewer)
            if not folded[shape]:
                continue
            if client.task is None:
                client.task = start_eagerly(self._drain(client, [frame]))
            else:  # it is sending: the frame follows what it sends now
                client.queued = [*(client.queued or ()), frame]

    # --- heartbeats, idle clients, revoked tokens ---------------------------------------------
    def sweep(self) -> None:
        """Ping clients whose beat is due, close idle ones, and notice the log moving on."""
        now = self.now()
        self._notice_log_head()
        for client in list(self._clients):
            if now - client.last_heard > self.limits.idle_timeout_secs:
                idle = int(self.limits.idle_timeout_secs)
                self._close(client, CLOSE_IDLE, f"no message from the client for {idle} s")
            elif now >= client.next_ping_at:
                reason = self._authorise(client.token_id)
                if reason is not None:
                    self._close(client, CLOSE_UNAUTHORISED, reason)
                    continue
                client.ping_due = True
                client.next_ping_at = now + self._beat()
                self._wake(client)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.limits.sweep_secs)
            try:
                self.sweep()
            except Exception:
                log.exception("stream.sweep_failed", site_id=self.site_id)

    def expire(self) -> None:
        """Close the streams whose token expired (or stopped working otherwise)."""
        for client in list(self._expiring):
            reason = self._authorise(client.token_id)
            if reason is not None:
                self._close(client, CLOSE_UNAUTHORISED, reason)

    async def _expire_forever(self) -> None:
        while True:
            await asyncio.sleep(EXPIRY_CHECK_SECS)
            try:
                self.expire()
            except Exception:
                log.exception("stream.expiry_check_failed", site_id=self.site_id)

    def _beat(self) -> float:
        jitter = self.limits.heartbeat_jitter_secs
        return self.limits.heartbeat_secs + random.uniform(-jitter, jitter)

    def _notice_log_head(self) -> None:
        """Events appended by another process reach us only through the log: read them."""
        behind = self._latest_seq() > self._ring.head
        if behind and self._behind_at_last_sweep:  # twice in a row: not just a commit in flight
            self._start_fill()
        self._behind_at_last_sweep = behind

    def _reauthorise_all(self) -> None:
        for client in list(self._clients):
            reason = self._authorise(client.token_id)
            if reason is not None:
                self._close(client, CLOSE_UNAUTHORISED, reason)
            elif self._identify and self._identify(client.token_id) not in (None, client.viewer):
                # It reconnects (any code but 4401) and is served as what it is now.
                self._close(client, CLOSE_IDENTITY_CHANGED, "this device's access changed")

    def _close(self, client: StreamClient, code: int, reason: str) -> None:
        self.leave(client)
        self._spawn(self._close_sink(client.sink, code, reason))

    async def _close_sink(self, sink: Sink, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(sink.close(code, reason), CLOSE_TIMEOUT_SECS)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
