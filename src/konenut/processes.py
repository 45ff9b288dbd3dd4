"""The processes of one node (`konenut serve --workers N`): this process runs the site's one
writer and serves HTTP; N-1 worker processes serve HTTP on the same listening socket, each with
a projection fed by the writer and handing it their commands (store/writer_link.py,
store/replica.py; docs/architecture.md "Processes of a node").

The kernel hands each new connection to whichever process is waiting for one, so a busy
process takes fewer: the HTTP floor of new connections is spread over the cores.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import socket
import tempfile
import threading
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import structlog
import uvicorn

from konenut import bootstrap
from konenut.config import Settings
from konenut.logs import configure_logging
from konenut.server import create_app
from konenut.store.eventstore import EventStore
from konenut.store.writer_link import WriterLink

log = structlog.get_logger(__name__)

RESTART_BACKOFF_SECS = 1.0  # a worker that dies is started again, at most this often
WORKER_EXIT_CODE_LINK_LOST = 3


def serve(
    settings: Settings, store: EventStore, server_options: dict[str, Any], workers: int
) -> None:
    """Serve until interrupted: this process (the writer) and `workers - 1` HTTP workers."""
    if workers <= 1:
        uvicorn.run(create_app(settings, store), **_bind(settings), **server_options)
        return
    listening = uvicorn.Config(app=None, **_bind(settings)).bind_socket()  # type: ignore[arg-type]
    run_dir = Path(tempfile.mkdtemp(prefix="konenut-"))  # 0700: only this user may connect
    link = WriterLink(store, run_dir / "writer.sock")
    link.start()
    supervisor = _Supervisor(settings, listening, link.path, server_options, workers - 1)
    supervisor.start()
    try:
        config = uvicorn.Config(create_app(settings, store), **server_options)
        uvicorn.Server(config).run(sockets=[listening])
    finally:
        supervisor.stop()
        link.close()
        listening.close()
        shutil.rmtree(run_dir, ignore_errors=True)


def _bind(settings: Settings) -> dict[str, Any]:
    return {"host": settings.host, "port": settings.port}


class _Supervisor:
    """Starts the worker processes, and starts again one that dies (not faster than the
    backoff), until stopped."""

    def __init__(
        self,
        settings: Settings,
        listening: socket.socket,
        link_path: Path,
        server_options: dict[str, Any],
        count: int,
    ) -> None:
        self.settings = settings
        self.listening = listening
        self.link_path = link_path
        self.server_options = server_options
        self.count = count
        self._context = multiprocessing.get_context("spawn")
        self._processes: list[BaseProcess] = []
        self._stopping = threading.Event()

    def start(self) -> None:
        self._processes = [self._spawn() for _ in range(self.count)]
        threading.Thread(target=self._watch, name="konenut-workers", daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()
        for process in self._processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        for process in self._processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()

    def _spawn(self) -> BaseProcess:
        process = self._context.Process(
            target=run_worker,
            args=(self.settings, self.listening, self.link_path, self.server_options),
            name="konenut-http-worker",
            daemon=True,
        )
        process.start()
        return process

    def _watch(self) -> None:
        while not self._stopping.wait(RESTART_BACKOFF_SECS):
            for index, process in enumerate(self._processes):
                if process.is_alive() or self._stopping.is_set():
                    continue
                log.error("worker.died", exitcode=process.exitcode, pid=process.pid)
                self._processes[index] = self._spawn()


def run_worker(
    settings: Settings,
    listening: socket.socket,
    link_path: Path,
    server_options: dict[str, Any],
) -> None:
    """A worker process's body: serve HTTP on the shared socket with a replica store, loaded
    first: a worker takes no connection it could only answer 503."""
    configure_logging()
    store = bootstrap.replica_store(settings, link_path, on_link_lost=_exit_on_link_lost)
    store.start()
    config = uvicorn.Config(create_app(settings, store), **server_options)
    try:
        uvicorn.Server(config).run(sockets=[listening])
    finally:
        store.close()


def _exit_on_link_lost() -> None:
    """Without its writer a worker can take no command: it goes, and is started again (or the
    node's service restarts, when the writer itself went)."""
    log.error("worker.link_lost_exiting")
    os._exit(WORKER_EXIT_CODE_LINK_LOST)
