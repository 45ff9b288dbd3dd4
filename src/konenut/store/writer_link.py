"""The writer process's end of the link to its HTTP worker processes (store/replica.py).

Workers send commands; each is handed to the store's one writer like a local command, and its
outcome goes back on the same connection. Every commit's events go to every worker, pickled
once, on the writer thread before the commit's callers are answered: a worker applies a
command's events before it sees the command's outcome, so it reads its own writes.
"""

from __future__ import annotations

import contextlib
import os
import queue
import socket
import struct
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path

import structlog

from konenut.domain.events import Event
from konenut.store.eventstore import EventStore, Outcome, StoreUnavailable
from konenut.store.link import LinkClosed, command_frame, frame, read_frames

log = structlog.get_logger(__name__)

# Frames a worker may fall behind by before the writer drops it (it restarts and catches up
# from the log): bounds the writer's memory if a worker stops reading.
MAX_QUEUED_FRAMES = 100_000
_PEER_CREDENTIALS = struct.Struct("3i")  # SO_PEERCRED: pid, uid, gid

HELLO, WELCOME, EVENTS, COMMAND, DONE = "hello", "welcome", "events", "command", "done"


class WriterLink:
    """Listens on a private Unix socket beside the store's writer; one thread per worker."""

    def __init__(self, store: EventStore, path: Path) -> None:
        self.store = store
        self.path = path
        self._server: socket.socket | None = None
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        store.subscribe(self._publish)

    def start(self) -> None:
        """Listen (the socket's directory must be private to this user)."""
        self.path.unlink(missing_ok=True)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(self.path))
        os.chmod(self.path, 0o600)
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept_forever, name="konenut-link", daemon=True).start()

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.close()
        self.path.unlink(missing_ok=True)

    @property
    def workers(self) -> int:
        with self._lock:
            return len(self._workers)

    def _accept_forever(self) -> None:
        while (server := self._server) is not None:
            try:
                connection, _ = server.accept()
            except OSError:
                return  # closed
            if not _same_user(connection):
                log.error("link.refused_peer")
                connection.close()
                continue
            worker = _Worker(self, connection)
            threading.Thread(target=worker.serve, name="konenut-link-worker", daemon=True).start()

    def _admit(self, worker: _Worker) -> None:
        with self._lock:
            self._workers.append(worker)

    def _forget(self, worker: _Worker) -> None:
        with self._lock:
            if worker in self._workers:
                self._workers.remove(worker)

    def _publish(self, site_id: str, events: Sequence[Event]) -> None:
        """The store's listener (writer thread): one pickle of the commit for every worker."""
        with self._lock:
            workers = list(self._workers)
        if not workers:
            return
        data = frame((EVENTS, site_id, list(events)))
        for worker in workers:
            worker.send(data)


class _Worker:
    """One worker process's connection: its commands in, events and outcomes out."""

    def __init__(self, link: WriterLink, connection: socket.socket) -> None:
        self.link = link
        self.connection = connection
        self._outbox: queue.SimpleQueue[bytes | tuple[str, int, object] | None] = (
            queue.SimpleQueue()
        )
        self._closed = False

    def serve(self) -> None:
        sender = threading.Thread(target=self._send_forever, name="konenut-link-out", daemon=True)
        sender.start()
        try:
            for message in read_frames(self.connection):
                self._receive(message)
        except LinkClosed:
            pass
        except Exception:
            log.exception("link.worker_failed")
        finally:
            self.close()

    def _receive(self, message: object) -> None:
        match message:
            case (str() as kind, *_) if kind == HELLO:
                self.link._admit(self)  # events from here on; older ones are in the log
                self.send(frame((WELCOME,)))
            case (str() as kind, int() as request_id, str() as site_id, decide, idem) if (
                kind == COMMAND
            ):
                self._run(request_id, site_id, decide, idem)
            case _:
                raise LinkClosed(f"unexpected message from a worker: {type(message).__name__}")

    def _run(self, request_id: int, site_id: str, decide: object, idem: object) -> None:
        if not self.link.store.started:
            self.send((DONE, request_id, StoreUnavailable("the writer is still starting")))
            return
        future: Future[Outcome] = self.link.store.submit(site_id, decide, idem)  # type: ignore[arg-type]

        def answer(done: Future[Outcome]) -> None:
            error = done.exception()
            self.send((DONE, request_id, error if error is not None else done.result()))

        future.add_done_callback(answer)

    def send(self, item: bytes | tuple[str, int, object]) -> None:
        if self._closed:
            return
        if self._outbox.qsize() > MAX_QUEUED_FRAMES:
            log.error("link.worker_too_slow")
            self.close()
            return
        self._outbox.put(item)

    def _send_forever(self) -> None:
        """Pickles outcomes off the writer thread; writes what is queued in one call."""
        while True:
            item = self._outbox.get()
            batch = []
            while item is not None:
                batch.append(item if isinstance(item, bytes) else command_frame(item))
                if self._outbox.empty() or len(batch) >= 256:
                    break
                item = self._outbox.get()
            try:
                if batch:
                    self.connection.sendall(b"".join(batch))
            except OSError:
                self.close()
                return
            if item is None:
                return

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.link._forget(self)
        self._outbox.put(None)
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        self.connection.close()


def _same_user(connection: socket.socket) -> bool:
    """Only processes of this node's own user may hand commands to the writer."""
    credentials = connection.getsockopt(
        socket.SOL_SOCKET, socket.SO_PEERCRED, _PEER_CREDENTIALS.size
    )
    _pid, uid, _gid = _PEER_CREDENTIALS.unpack(credentials)
    return bool(uid == os.getuid())
