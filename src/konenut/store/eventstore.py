"""The event store: durable appends through one writer thread, reads, projections.

Every command for a site is decided and appended by a single writer thread, in arrival
order, against the site's current state; commands that arrive together share one
transaction and one fsync (group commit). Request handlers never touch the write lock.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import queue
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, InvalidStateError
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog

# What a command decides lives in the app layer; named here too for the store's callers.
from konenut.app.decisions import Decide as Decide
from konenut.app.decisions import Decision as Decision
from konenut.app.decisions import IdempotencyKey as IdempotencyKey
from konenut.app.decisions import Outcome as Outcome
from konenut.config import CODE_KEY_NAME
from konenut.domain.errors import Conflict, DomainError, IdempotencyConflict
from konenut.domain.event_types import event_type
from konenut.domain.events import Event, JsonDict, NewEvent
from konenut.domain.ids import format_time, parse_time, utcnow
from konenut.domain.rules import validated
from konenut.domain.state import SiteState
from konenut.security.private_files import load_or_create_secret
from konenut.store import schema
from konenut.store.engines import create_engines, is_sqlite, sqlite_path
from konenut.store.sealing import key_digest, seal, unseal

log = structlog.get_logger(__name__)

MAX_BATCH_COMMANDS = 512  # commands per transaction: bounds the latency one fsync can add
SNAPSHOT_EVERY_EVENTS = 5_000  # a restart replays at most this many events per site
IDEMPOTENCY_KEEP = timedelta(days=8)  # contracts §3: at least 7 days
SEALED_FIELD = "sealed"  # a stored response's secrets, encrypted (store/sealing.py)
READ_PAGE_EVENTS = 10_000


class StoreUnavailable(Exception):
    """The database cannot be reached; nothing was stored. Retry later."""


class CommandFailed(Exception):
    """A command raised an unexpected error while deciding; nothing of it was stored."""


# Called with (site_id, events) from the writer thread after each commit.
Listener = Callable[[str, Sequence[Event]], None]


@dataclass
class _Request:
    site_id: str
    decide: Decide
    idem: IdempotencyKey | None
    future: Future[Outcome] = field(default_factory=Future)


# Statements of the writer's hot path, built once: building a SQLAlchemy statement per batch
# cost more CPU than the fsync it waits for (bench/RESULTS.md).
_h, _i, _e = schema.site_heads.c, schema.idempotency.c, schema.events.c
SELECT_HEAD = sa.select(_h.last_seq).where(_h.site_id == sa.bindparam("site_id"))
SELECT_HEAD_FOR_UPDATE = SELECT_HEAD.with_for_update()
UPDATE_HEAD = (
    sa.update(schema.site_heads)
    .where(_h.site_id == sa.bindparam("b_site_id"))
    .values(last_seq=sa.bindparam("b_last_seq"))
)
INSERT_HEAD = sa.insert(schema.site_heads)
INSERT_EVENTS = sa.insert(schema.events)
INSERT_IDEMPOTENCY = sa.insert(schema.idempotency)
SELECT_IDEMPOTENCY = sa.select(_i.request_hash, _i.status, _i.body).where(
    _i.site_id == sa.bindparam("site_id"),
    _i.scope == sa.bindparam("scope"),
    _i.key_digest == sa.bindparam("key_digest"),
)
SELECT_TAIL = (
    sa.select(schema.events)
    .where(_e.site_id == sa.bindparam("site_id"), _e.seq > sa.bindparam("since"))
    .order_by(_e.seq)
)
# Whether a command's key was used before: asked once per command, and nearly always "no".
# It runs on the DB-API cursor (`_KeyLookup`): through SQLAlchemy's execution it cost about
# 35 us on SQLite, ten times the indexed lookup itself and a fifth of the writer's CPU per
# check-in (bench/RESULTS.md). A key that was used reads its stored body with SELECT_IDEMPOTENCY.
SELECT_KEY_USED = sa.select(_i.request_hash).where(
    _i.site_id == sa.bindparam("site_id"),
    _i.scope == sa.bindparam("scope"),
    _i.key_digest == sa.bindparam("key_digest"),
)


def event_body(event: Event) -> JsonDict:
    """An event as its sender gets it back: everything but secret fields."""
    body = event.to_json()
    secrets = event_type(event.type).secret_fields
    if secrets:
        body["payload"] = {k: v for k, v in event.payload.items() if k not in secrets}
    return body


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a log is folded into a state: the fold makes no
    garbage cycles, and the collector's passes over the growing state were a fifth of a rebuild
    (bench/rebuild.py)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _KeyLookup:
    """SELECT_KEY_USED compiled once for the writer's dialect, run on the raw DB-API cursor of
    the writer's connection (inside its transaction)."""

    def __init__(self, dialect: sa.Dialect) -> None:
        compiled = SELECT_KEY_USED.compile(dialect=dialect)
        self.sql = compiled.string
        self.order = tuple(compiled.positiontup or ()) if compiled.positional else None

    def request_hash(self, connection: sa.Connection, params: dict[str, str]) -> str | None:
        """The request hash stored with this key, or None when the key is new."""
        arguments = params if self.order is None else tuple(params[n] for n in self.order)
        cursor = connection.connection.cursor()
        try:
            cursor.execute(self.sql, arguments)
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else str(row[0])


def _row_to_event(row: sa.Row[Any]) -> Event:
    """An Event from a row of `select(schema.events)` (its columns in the table's order);
    unpacked by position, which costs a fraction of reading each column by name."""
    (site_id, seq, id_, type_, version, incident_id, occurred_at, recorded_at, actor, device,
     location, payload, drill) = tuple(row)  # fmt: skip
    return Event.from_log(
        {
            "site_id": site_id,
            "seq": int(seq),
            "id": id_,
            "type": type_,
            "version": int(version),
            "incident_id": incident_id,
            "occurred_at": parse_time(occurred_at),
            "recorded_at": parse_time(recorded_at),
            "actor": actor,
            "device": device,
            "location": location,
            "payload": payload,
            "drill": bool(drill),
            "stored_occurred_at": occurred_at,
            "stored_recorded_at": recorded_at,
        }
    )


def _event_row(event: Event) -> dict[str, Any]:
    return {
        "site_id": event.site_id,
        "seq": event.seq,
        "id": event.id,
        "type": event.type,
        "version": event.version,
        "incident_id": event.incident_id,
        "occurred_at": event.occurred_text,
        "recorded_at": event.recorded_text,
        "actor": event.actor,
        "device": event.device,
        "location": event.location,
        "payload": event.payload,
        "drill": event.drill,
    }


class EventStore:
    """One store per process. Call `start()` before use and `close()` at the end."""

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], datetime] = utcnow,
        code_key: bytes | None = None,
    ) -> None:
        """`code_key`: the deployment's key of code hashes (Settings.resolved_code_key); given
        none, a SQLite store uses the `code_key` file beside its database (the data dir's, in
        the default layout) and any other a random key of its own (its codes work only in it)."""
        self.url = url
        self.clock = clock
        self._code_key = code_key or _default_code_key(url)
        self.writer_engine, self.reader_engine = create_engines(url)
        self._states: dict[str, SiteState] = {}
        self._snapshot_seq: dict[str, int] = {}
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._listeners: list[Listener] = []
        self._thread: threading.Thread | None = None
        self._writer_connection: sa.Connection | None = None  # owned by the writer thread
        self._snapshotting = threading.Lock()  # at most one snapshot being written
        self._stale_sites: set[str] = set()  # projections to reload (writer thread only)
        self._state_lock = threading.RLock()  # guards _states against readers mid-apply
        self._key_lookup = _KeyLookup(self.writer_engine.dialect)
        self.caught_up = False

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Restore every site's projection (snapshot + tail), then start the writer."""
        self.load_projections()
        self._thread = threading.Thread(target=self._run_writer, name="konenut-writer", daemon=True)
        self._thread.start()
        self.caught_up = True

    @property
    def started(self) -> bool:
        return self._thread is not None

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None
        with self._snapshotting:  # let a snapshot being written finish
            pass
        self.writer_engine.dispose()
        self.reader_engine.dispose()

    def subscribe(self, listener: Listener) -> None:
        """Call `listener(site_id, events)` from the writer thread after each commit."""
        self._listeners.append(listener)

    # --- commands ----------------------------------------------------------------------------
    def submit(
        self, site_id: str, decide: Decide, idem: IdempotencyKey | None = None
    ) -> Future[Outcome]:
        """Queue a command for the writer; the future resolves once it is durable (or refused)."""
        if self._thread is None:
            raise RuntimeError("EventStore.start() was not called")
        request = _Request(site_id, decide, idem)
        self._queue.put(request)
        return request.future

    def execute(self, site_id: str, decide: Decide, idem: IdempotencyKey | None = None) -> Outcome:
        return self.submit(site_id, decide, idem).result()

    def append(
        self, site_id: str, new_events: Sequence[NewEvent], idem: IdempotencyKey | None = None
    ) -> list[Event]:
        """Append events as they are (no rules but the envelope's); returns them with seq."""
        events = list(new_events)
        outcome = self.execute(site_id, lambda _state, _now: Decision(events), idem)
        return list(outcome.events)

    def import_log(self, site_id: str, events: Sequence[Event]) -> None:
        """Store a site's whole log as given (seq, ids, times and actors kept), checked by the
        caller (app/exports.read_export), in one transaction, into a store that holds no event.
        Only before `start()`: the import is then the store's one writer. Conflict when the
        store is not empty; nothing is stored then."""
        if self.started:
            raise RuntimeError("import_log runs before EventStore.start()")
        with self.writer_engine.begin() as connection:
            head = self._lock_head(connection, site_id)  # a second import waits, then refuses
            if connection.execute(sa.select(_e.seq).limit(1)).first() is not None:
                raise Conflict("the store already holds a log: import into an empty data dir")
            for start in range(0, len(events), READ_PAGE_EVENTS):
                page = events[start : start + READ_PAGE_EVENTS]
                connection.execute(INSERT_EVENTS, [event.to_json() for event in page])  # columns
            self._set_head(connection, site_id, events[-1].seq if events else 0, head == -1)

    # --- reads -------------------------------------------------------------------------------
    def state(self, site_id: str) -> SiteState:
        """The live projection of a site (do not mutate it)."""
        with self._state_lock:
            state = self._states.get(site_id)
            if state is None:
                state = self._states[site_id] = self._keyed(SiteState(site_id=site_id))
            return state

    def sites(self) -> list[str]:
        with self.reader_engine.connect() as connection:
            return list(connection.execute(sa.select(schema.site_heads.c.site_id)).scalars())

    def head(self, site_id: str) -> int:
        with self.reader_engine.connect() as connection:
            return self._head(connection, site_id)

    def read(
        self,
        site_id: str,
        since: int = 0,
        *,
        incident_id: str | None = None,
        types: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[Event]:
        """Events of a site with seq > since, in order (optionally one incident's, some types)."""
        e = schema.events.c
        query = sa.select(schema.events).where(e.site_id == site_id, e.seq > since).order_by(e.seq)
        if incident_id is not None:
            query = query.where(e.incident_id == incident_id)
        if types is not None:
            query = query.where(e.type.in_(types))
        if limit is not None:
            query = query.limit(limit)
        with self.reader_engine.connect() as connection:
            return [_row_to_event(row) for row in connection.execute(query)]

    def latest_configuration(self, site_id: str, event_type: str) -> Event | None:
        """The newest site-configuration event (no incident) of a type, before the projections
        are loaded: the (site, incident, seq) index is read backwards from the end."""
        e = schema.events.c
        query = (
            sa.select(schema.events)
            .where(e.site_id == site_id, e.incident_id.is_(None), e.type == event_type)
            .order_by(e.seq.desc())
            .limit(1)
        )
        with self.reader_engine.connect() as connection:
            row = connection.execute(query).first()
        return _row_to_event(row) if row is not None else None

    def iter_all(self, site_id: str, since: int = 0) -> Iterable[Event]:
        """Every event after `since`, read in pages so memory stays bounded."""
        while True:
            page = self.read(site_id, since, limit=READ_PAGE_EVENTS)
            yield from page
            if len(page) < READ_PAGE_EVENTS:
                return
            since = page[-1].seq

    # --- projections -------------------------------------------------------------------------
    def load_projections(self) -> None:
        """Restore each site's state from its snapshot and the log after it."""
        for site_id in self.sites():
            state = self._keyed(self._load_snapshot(site_id) or SiteState(site_id=site_id))
            self._snapshot_seq[site_id] = state.seq
            with _cycle_collector_paused():
                state.apply_all(self.iter_all(site_id, state.seq))
            with self._state_lock:
                self._states[site_id] = state

    def rebuild(self, site_id: str) -> SiteState:
        """A state built from the whole log, ignoring snapshots (for checks and tests)."""
        state = self._keyed(SiteState(site_id=site_id))
        with _cycle_collector_paused():
            state.apply_all(self.iter_all(site_id))
        return state

    def _keyed(self, state: SiteState) -> SiteState:
        return state.keyed(site_code_key(self._code_key, state.site_id))

    def _load_snapshot(self, site_id: str) -> SiteState | None:
        s = schema.snapshots.c
        with self.reader_engine.connect() as connection:
            row = connection.execute(sa.select(s.seq, s.state).where(s.site_id == site_id)).first()
        if row is None:
            return None
        state = SiteState.from_snapshot(row.state)
        if state is None or state.seq != row.seq:
            log.info("snapshot.ignored", site_id=site_id, reason="other state version")
            return None
        return state

    def write_snapshot(self, site_id: str) -> None:
        """Snapshot the state now; only while nothing is appending (tools and tests)."""
        with self._state_lock:
            state = self.state(site_id)
            data, seq = state.snapshot(), state.seq
        self._write_snapshot(site_id, seq, data)

    def _write_snapshot(self, site_id: str, seq: int, data: JsonDict) -> None:
        with self.writer_engine.begin() as connection:
            self._upsert_snapshot(connection, site_id, seq, data)
        self._snapshot_seq[site_id] = seq

    def _upsert_snapshot(
        self, connection: sa.Connection, site_id: str, seq: int, data: JsonDict
    ) -> None:
        s = schema.snapshots
        connection.execute(sa.delete(s).where(s.c.site_id == site_id))
        connection.execute(
            sa.insert(s).values(
                site_id=site_id, seq=seq, state=data, created_at=format_time(self.clock())
            )
        )

    # --- the writer --------------------------------------------------------------------------
    def _run_writer(self) -> None:
        try:
            self._serve_queue()
        finally:
            self._drop_writer_connection()

    def _serve_queue(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH_COMMANDS:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(item)
            try:
                self._write_batch(batch)
            except BaseException as exc:  # the writer must outlive any one batch
                log.exception("writer.unexpected", commands=len(batch))
                for request in batch:
                    _settle(request.future, exc)

    def _write_batch(self, batch: list[_Request]) -> None:
        results: list[tuple[_Request, Outcome | BaseException]] = []
        appended: dict[str, list[Event]] = {}
        batch = self._without_unloadable_sites(batch)
        if not batch:
            return
        try:
            connection = self._connection()
            with connection.begin():
                results = self._decide_batch(connection, batch, appended)
        except Exception as exc:  # the whole transaction failed: nothing was stored
            log.exception("writer.batch_failed", commands=len(batch))
            self._drop_writer_connection()  # it may be broken (server restart, network)
            for request in batch:
                _settle(request.future, exc)
            # The projection holds the batch's events, which were not stored: reload it from
            # the log now, or before the site's next command if the database is still away.
            self._stale_sites.update(r.site_id for r in batch)
            self._without_unloadable_sites([])
            return
        # Listeners first: the policies' follow-ups (a caution) are queued before the callers
        # get their answers, so a caller's next command is decided after them.
        for site_id, events in appended.items():
            self._notify(site_id, events)
            self._maybe_snapshot(site_id)
        for request, result in results:
            _settle(request.future, result)

    def _without_unloadable_sites(self, batch: list[_Request]) -> list[_Request]:
        """Reload stale sites from the log; refuse commands for those that cannot be yet."""
        for site_id in list(self._stale_sites):
            try:
                self._reload_site(site_id)
                self._stale_sites.discard(site_id)
            except Exception:
                log.exception("writer.reload_failed", site_id=site_id)
        unavailable = [r for r in batch if r.site_id in self._stale_sites]
        for request in unavailable:
            _settle(
                request.future,
                StoreUnavailable("the database cannot be reached; try again in a moment"),
            )
        return [r for r in batch if r.site_id not in self._stale_sites]

    @property
    def healthy(self) -> bool:
        """False while a site's projection waits to be reloaded after a failed write."""
        return not self._stale_sites

    def _connection(self) -> sa.Connection:
        """The writer's own connection, kept open: no pool checkout or ping per batch."""
        if self._writer_connection is None:
            self._writer_connection = self.writer_engine.connect()
        return self._writer_connection

    def _drop_writer_connection(self) -> None:
        if self._writer_connection is not None:
            try:
                self._writer_connection.close()
            except Exception:
                log.exception("writer.connection_close_failed")
            self._writer_connection = None

    def _decide_batch(
        self, connection: sa.Connection, batch: list[_Request], appended: dict[str, list[Event]]
    ) -> list[tuple[_Request, Outcome | BaseException]]:
        now = self.clock()
        recorded_at = format_time(now)
        heads = {
            site_id: self._lock_head(connection, site_id) for site_id in {r.site_id for r in batch}
        }
        for site_id, head in heads.items():
            caught_up = self._catch_up(connection, site_id, head)
            if caught_up:
                appended[site_id] = caught_up  # listeners hear them before this batch's
        seen_keys: dict[tuple[str, str, str], tuple[str, Outcome]] = {}
        new_heads: dict[str, int] = {}
        results: list[tuple[_Request, Outcome | BaseException]] = []
        rows: list[dict[str, Any]] = []
        idem_rows: list[dict[str, Any]] = []
        for request in batch:
            idem = request.idem
            digest = key_digest(request.site_id, idem.scope, idem.key) if idem else ""
            try:
                stored = self._stored_outcome(connection, request, digest, seen_keys)
                if stored is not None:
                    results.append((request, stored))
                    continue
                outcome = self._decide_one(request, now, recorded_at, rows)
            except (DomainError, CommandFailed) as exc:
                results.append((request, exc))
                continue
            appended.setdefault(request.site_id, []).extend(outcome.events)
            if outcome.events:
                new_heads[request.site_id] = outcome.events[-1].seq
            if idem is not None:
                seen_keys[(request.site_id, idem.scope, idem.key)] = (idem.request_hash, outcome)
                idem_rows.append(
                    {
                        "site_id": request.site_id,
                        "scope": idem.scope,
                        "key_digest": digest,
                        "request_hash": idem.request_hash,
                        "status": outcome.status,
                        "body": outcome.body
                        if outcome.stored_body is None
                        else outcome.stored_body,
                        "created_at": recorded_at,
                    }
                )
            results.append((request, outcome))
        if rows:
            connection.execute(INSERT_EVENTS, rows)
        if idem_rows:
            connection.execute(INSERT_IDEMPOTENCY, idem_rows)
        for site_id, seq in new_heads.items():
            self._set_head(connection, site_id, seq, heads[site_id] == -1)
        return results

    def _decide_one(
        self, request: _Request, now: datetime, recorded_at: str, rows: list[dict[str, Any]]
    ) -> Outcome:
        state = self.state(request.site_id)
        try:
            decision = request.decide(state, now)
            checked = [validated(new, now) for new in decision.events]
        except DomainError:
            raise
        except Exception as exc:  # a bug in one command must not fail the whole group commit
            log.exception("command.failed", site_id=request.site_id)
            raise CommandFailed(f"the command failed: {exc!r}") from exc
        events: list[Event] = []
        with self._state_lock:
            for new in checked:
                event = Event(
                    site_id=request.site_id,
                    seq=state.seq + 1,
                    id=new.id,
                    type=new.type,
                    version=event_type(new.type).version,
                    incident_id=new.incident_id,
                    occurred_at=new.occurred_at,
                    recorded_at=now,
                    actor=new.actor,
                    device=new.device,
                    location=new.location,
                    payload=new.payload,
                    drill=new.drill,
                    stored_occurred_at=format_time(new.occurred_at),
                    stored_recorded_at=recorded_at,
                )
                state.apply(event)
                events.append(event)
        rows.extend(_event_row(event) for event in events)
        status = decision.status or (201 if events else 200)
        # A command that answers with its own "events" field (the registry import: a count)
        # would throw away thousands of event bodies built here.
        bodies = [] if "events" in decision.extra else [event_body(event) for event in events]
        body = {"events": bodies, **decision.extra}
        return Outcome(
            status=status,
            body={**body, **decision.secrets},
            events=tuple(events),
            stored_body=self._storable(request, body, decision.secrets),
        )

    def _storable(self, request: _Request, body: JsonDict, secrets: JsonDict) -> JsonDict:
        if not secrets or request.idem is None:
            return body
        idem = request.idem
        return {**body, SEALED_FIELD: seal(secrets, request.site_id, idem.scope, idem.key)}

    def _stored_outcome(
        self,
        connection: sa.Connection,
        request: _Request,
        digest: str,
        seen_keys: dict[tuple[str, str, str], tuple[str, Outcome]],
    ) -> Outcome | None:
        """The stored answer to a key used before (None when it is new; `digest` is its
        key_digest); IdempotencyConflict when it was used for another request."""
        idem = request.idem
        if idem is None:
            return None
        in_batch = seen_keys.get((request.site_id, idem.scope, idem.key))
        if in_batch is not None:
            request_hash, outcome = in_batch
            stored_hash, status, body = request_hash, outcome.status, outcome.body
        else:
            params = {"site_id": request.site_id, "scope": idem.scope, "key_digest": digest}
            if self._key_lookup.request_hash(connection, params) is None:
                return None
            row = connection.execute(SELECT_IDEMPOTENCY, params).one()
            stored_hash, status, body = row.request_hash, int(row.status), row.body
        if stored_hash != idem.request_hash:
            raise IdempotencyConflict(
                "this Idempotency-Key was already used for a different request; "
                "use a new key for a new request"
            )
        if SEALED_FIELD in body:
            opened = unseal(body[SEALED_FIELD], request.site_id, idem.scope, idem.key)
            body = {k: v for k, v in body.items() if k != SEALED_FIELD} | opened
        return Outcome(status=status, body=body, replayed=True)

    def _lock_head(self, connection: sa.Connection, site_id: str) -> int:
        """The site's last seq, locked for this transaction; -1 when the site has no head row."""
        # SQLite's BEGIN IMMEDIATE already locks the whole file; PostgreSQL locks the row.
        query = SELECT_HEAD if is_sqlite(self.url) else SELECT_HEAD_FOR_UPDATE
        params = {"site_id": site_id}
        head = connection.execute(query, params).scalar()
        if head is None and not is_sqlite(self.url):
            # Two nodes may create the row at once: let one win, then lock it.
            connection.execute(
                sa.text(
                    "INSERT INTO site_heads (site_id, last_seq) VALUES (:s, 0) "
                    "ON CONFLICT (site_id) DO NOTHING"
                ),
                {"s": site_id},
            )
            head = connection.execute(query, params).scalar()
            return int(head) if head is not None else 0
        return -1 if head is None else int(head)

    def _set_head(self, connection: sa.Connection, site_id: str, seq: int, insert: bool) -> None:
        if insert:
            connection.execute(INSERT_HEAD, {"site_id": site_id, "last_seq": seq})
        else:
            connection.execute(UPDATE_HEAD, {"b_site_id": site_id, "b_last_seq": seq})

    def _catch_up(self, connection: sa.Connection, site_id: str, head: int) -> list[Event]:
        """Apply the events another process appended since our state was last updated."""
        state = self.state(site_id)
        if head <= state.seq:
            return []
        rows = connection.execute(SELECT_TAIL, {"site_id": site_id, "since": state.seq})
        events = [_row_to_event(row) for row in rows]
        with self._state_lock:
            state.apply_all(events)
        return events

    def refresh(self, site_id: str) -> None:
        """Catch up with events another process appended (the CLI while a server runs).

        The writer does the catching up, so listeners hear every event once and in order.
        """
        if self.head(site_id) > self.state(site_id).seq:
            self.execute(site_id, lambda _state, _now: Decision())

    def _reload_site(self, site_id: str) -> None:
        state = self._keyed(self._load_snapshot(site_id) or SiteState(site_id=site_id))
        state.apply_all(self.iter_all(site_id, state.seq))
        with self._state_lock:
            self._states[site_id] = state

    def _head(self, connection: sa.Connection, site_id: str) -> int:
        h = schema.site_heads.c
        head = connection.execute(sa.select(h.last_seq).where(h.site_id == site_id)).scalar()
        return int(head or 0)

    def _notify(self, site_id: str, events: list[Event]) -> None:
        for listener in self._listeners:
            try:
                listener(site_id, events)
            except Exception:  # a failing listener must never lose or block an append
                log.exception("listener.failed", site_id=site_id)

    def _maybe_snapshot(self, site_id: str) -> None:
        """Snapshot every SNAPSHOT_EVERY_EVENTS events, written off the writer thread.

        The state is captured here, on the writer thread between two batches, where it holds
        committed events only: captured later, it could include events of a batch in flight,
        which may roll back, or commit after the snapshot (on PostgreSQL), so that a crash in
        between leaves a snapshot ahead of the log.
        """
        state = self.state(site_id)
        due = state.seq - self._snapshot_seq.get(site_id, 0) >= SNAPSHOT_EVERY_EVENTS
        if due and self._snapshotting.acquire(blocking=False):
            data, seq = state.snapshot(), state.seq
            threading.Thread(
                target=self._snapshot_in_background, args=(site_id, seq, data), daemon=True
            ).start()

    def _snapshot_in_background(self, site_id: str, seq: int, data: JsonDict) -> None:
        try:
            self._write_snapshot(site_id, seq, data)
        except Exception:  # the log is the truth: a missed snapshot only slows the next start
            log.exception("snapshot.failed", site_id=site_id)
        finally:
            self._snapshotting.release()

    def purge_idempotency(self) -> int:
        """Forget keys older than the retention period; returns how many."""
        cutoff = format_time(self.clock() - IDEMPOTENCY_KEEP)
        i = schema.idempotency
        with self.writer_engine.begin() as connection:
            result = connection.execute(sa.delete(i).where(i.c.created_at < cutoff))
        return int(result.rowcount or 0)


def _default_code_key(url: str) -> bytes:
    path = sqlite_path(url)
    if path is None or not path.parent.is_dir():
        return secrets.token_bytes(32)
    return load_or_create_secret(path.parent / CODE_KEY_NAME).encode()


def site_code_key(deployment_key: bytes, site_id: str) -> bytes:
    """A site's own key of code hashes, derived from the deployment's."""
    return hmac.new(
        deployment_key, b"konenut-site-code-key:" + site_id.encode(), hashlib.sha256
    ).digest()


def _settle(future: Future[Outcome], result: Outcome | BaseException) -> None:
    """Hand the caller its result, unless it stopped waiting (its task was cancelled, e.g. at
    shutdown): the command ran and stays stored either way."""
    try:
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)
    except InvalidStateError:
        pass  # cancelled (or settled) meanwhile
