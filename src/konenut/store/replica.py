"""The store as an HTTP worker process holds it: projections fed by the writer process's
events, commands handed to that writer (store/writer_link.py; contracts §2: one writer per
site, so workers never race for the SQLite write lock).

Reads (`state`, `read`, `head`) are local: the projection, and the database through the
reader engine. A command's outcome arrives after its events have been applied here, so a
worker reads its own writes.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path

import structlog

from konenut.domain.events import Event
from konenut.domain.ids import utcnow
from konenut.store.eventstore import (
    Decide,
    EventStore,
    IdempotencyKey,
    Outcome,
    StoreUnavailable,
    _settle,
)
from konenut.store.link import LinkClosed, command_frame, frame, read_frames
from konenut.store.writer_link import COMMAND, DONE, EVENTS, HELLO, WELCOME

log = structlog.get_logger(__name__)

CONNECT_TIMEOUT_SECS = 10.0
CLOSE_WAIT_SECS = 5.0
LINK_LOST = "the link to the writer process was lost; try again in a moment"


class ReplicaStore(EventStore):
    """An EventStore whose writer is another process. `start()` connects, then loads."""

    def __init__(
        self,
        url: str,
        link_path: Path,
        *,
        clock: Callable[[], datetime] = utcnow,
        code_key: bytes | None = None,
        on_link_lost: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(url, clock=clock, code_key=code_key)
        self.link_path = link_path
        self.on_link_lost = on_link_lost
        self._socket: socket.socket | None = None
        self._outbox: queue.SimpleQueue[tuple[str, int, str, Decide, IdempotencyKey | None]] = (
            queue.SimpleQueue()
        )
        self._pending: dict[int, Future[Outcome]] = {}
        self._pending_lock = threading.Lock()
        self._request_ids = itertools.count(1)
        self._lost = False

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Join the writer's feed, then load the projections: events committed meanwhile come
        by the feed, and those before it are in the log (a gap is read from the log)."""
        self._socket = self._connect()
        messages = read_frames(self._socket)
        if next(messages) != (WELCOME,):
            raise LinkClosed("the writer did not welcome this worker")
        self.load_projections()
        threading.Thread(target=self._send_forever, name="konenut-replica-out", daemon=True).start()
        self._thread = threading.Thread(
            target=self._receive_forever, args=(messages,), name="konenut-replica-in", daemon=True
        )
        self._thread.start()
        self.caught_up = True

    def _connect(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(CONNECT_TIMEOUT_SECS)
        sock.connect(str(self.link_path))
        sock.sendall(frame((HELLO,)))
        sock.settimeout(None)
        return sock

    def close(self) -> None:
        """After the commands in flight are answered (a clean stop records the refusals still
        being counted, api/denials.py), or CLOSE_WAIT_SECS."""
        deadline = time.monotonic() + CLOSE_WAIT_SECS
        while self._pending and not self._lost and time.monotonic() < deadline:
            time.sleep(0.01)
        sock, self._socket = self._socket, None
        if sock is not None:
            self._lost = True  # closing on purpose: not a lost link
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._thread = None
        self.writer_engine.dispose()
        self.reader_engine.dispose()

    # --- commands: to the writer -------------------------------------------------------------
    def submit(
        self, site_id: str, decide: Decide, idem: IdempotencyKey | None = None
    ) -> Future[Outcome]:
        if self._thread is None:
            raise RuntimeError("ReplicaStore.start() was not called")
        future: Future[Outcome] = Future()
        if self._lost:
            future.set_exception(StoreUnavailable(LINK_LOST))
            return future
        request_id = next(self._request_ids)
        with self._pending_lock:
            self._pending[request_id] = future
        self._outbox.put((COMMAND, request_id, site_id, decide, idem))
        return future

    def _send_forever(self) -> None:
        """Pickles commands off the event loop; writes what is queued in one call."""
        while (sock := self._socket) is not None:
            batch = [command_frame(self._outbox.get())]
            while not self._outbox.empty() and len(batch) < 256:
                batch.append(command_frame(self._outbox.get()))
            try:
                sock.sendall(b"".join(batch))
            except OSError:
                self._link_lost()
                return

    # --- events and outcomes: from the writer ------------------------------------------------
    def _receive_forever(self, messages: Iterator[object]) -> None:
        try:
            for message in messages:
                self._receive(message)
        except (LinkClosed, OSError):
            pass
        except Exception:
            log.exception("replica.link_failed")
        self._link_lost()

    def _receive(self, message: object) -> None:
        match message:
            case (str() as kind, str() as site_id, list() as events) if kind == EVENTS:
                self._apply_feed(site_id, events)
            case (str() as kind, int() as request_id, Outcome() | BaseException() as result) if (
                kind == DONE
            ):
                with self._pending_lock:
                    future = self._pending.pop(request_id, None)
                if future is not None:
                    _settle(future, result)
            case _:
                raise LinkClosed(f"unexpected message from the writer: {type(message).__name__}")

    def _apply_feed(self, site_id: str, events: Sequence[Event]) -> None:
        """Apply a commit's events in seq order, reading from the log any this worker missed
        (committed before it joined the feed but after it loaded)."""
        with self._state_lock:
            state = self.state(site_id)
            fresh = [event for event in events if event.seq > state.seq]
            if fresh and fresh[0].seq > state.seq + 1:
                first = fresh[0].seq
                missed = [e for e in self.iter_all(site_id, state.seq) if e.seq < first]
                fresh = missed + fresh
            state.apply_all(fresh)
        if fresh:
            self._notify(site_id, fresh)

    def _link_lost(self) -> None:
        if self._lost:
            return
        self._lost = True
        log.error("replica.link_lost")
        with self._pending_lock:
            pending, self._pending = self._pending, {}
        for future in pending.values():
            _settle(future, StoreUnavailable(LINK_LOST))
        if self.on_link_lost is not None:
            self.on_link_lost()
