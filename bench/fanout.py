"""Fan-out: one event appended -> time until every one of N WebSocket clients has it.

Konenut's live stream (`/api/v1/stream`, served by uvicorn as `konenut serve` serves it) against
a bare `websockets` server that hands one pre-encoded message to `websockets.broadcast`, in the
same run, on loopback, without compression. Each server runs in a subprocess of its own, so
the memory measured is its own; the N clients are spread over client processes that note the
CLOCK_MONOTONIC time each message arrives (the same clock in every process).

  konenut  a commander POSTs a broadcast: HTTP, append, fsync, bus, hub, then every client
           (90 % resident tokens, 10 % squad: two audiences, two encodings) gets the event;
           each client authenticated, caught up (`live`) and answering heartbeats. The
           broadcaster runs as served: the broadcast's per-household delivery bookkeeping
           (a delivery per household, failed: nobody subscribed to push) lands meanwhile.
  bare     a control connection sends "fire": the server broadcasts one message to all

With `--event position`, every client is a squad member's device and each round is a burst of
`--burst` position reports, one POST per unit from that many units one after the other (the
stream's live coalescing window off: it holds positions on purpose, up to 250 ms, which is not
fan-out cost); every client gets every position. The bare server broadcasts as many messages.

A client's latency = its arrival time - the moment the event was durable (the Konenut server
prints it from a store listener subscribed ahead of the stream; bare: the moment "fire" was
sent), pooled over the rounds after one warm-up round: p50 / p99 / max. The time from the
POST is shown too. Memory per connection = the server's RSS growth while the clients connect
(after a warm-up share had connected), divided by their number. Server CPU per event = the
server process's CPU time from the trigger until every client had the message.

Run from the repository root:  .venv/bin/python bench/fanout.py [--quick] [--clients N ...]
(about 3 minutes on 2 cores; `--quick` is 500 clients). Loopback only, temporary files only.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import multiprocessing.connection
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx
import orjson
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
DEFAULT_CLIENTS = (1_000, 5_000)
QUICK_CLIENTS = (500,)
ROUNDS = 5
CLIENT_PROCESSES = 2  # one per core of the reference machine; they share it with the server
CONNECT_CONCURRENCY = 100  # handshakes in flight per client process: well under the backlog
LISTEN_BACKLOG = 2_048
WARMUP_SHARE = 0.05  # clients connected before the first RSS reading (allocator warm-up)
MIN_WARMUP = 25
SETTLE_SECS = 1.0  # after connecting, before reading RSS
ROUND_PAUSE_SECS = 1.0
ROUND_TIMEOUT_SECS = 15.0  # a client without the message by then counts as lost
CONNECT_TIMEOUT_SECS = 180.0
READY_TIMEOUT_SECS = 120.0
FD_MARGIN = 512  # descriptors beyond one per client: listeners, the database, pipes
RESIDENT_SHARE = 0.9
DEVICES_PER_HOUSEHOLD = 3
BURST_POSITIONS = 20  # position reports per round with --event position
BARE_KEY_STRIDE = 1_000  # bare position i of round r arrives under key r * stride + i

# Targets (issue 3, item 1; the ratio issue 13's) and the bare baseline measured on the
# 2-core reference machine.
TARGET_P99_MS = 1_000.0  # 5,000 clients on one node
TARGET_P99_RATIO = 2.0  # ours / bare, broadcast and position
TARGET_POST_MS = 200.0  # the POST answered (issue 13): before any delivery, whatever the site
TARGET_MEMORY_RATIO = 2.0  # ours / bare, per connection
REFERENCE_BARE = {5_000: "p99 ~300 ms", 1_000: "p99 ~41 ms", 0: "13.5 KiB/conn"}

BARE, KONENUT = "bare", "konenut"
BROADCAST, POSITION = "broadcast", "position"


# --- the servers (each in its own subprocess) ----------------------------------------------------
def round_text(round_no: int) -> str:
    return f"bench round {round_no}"


def bare_message(round_no: int) -> str:
    """An event about the size and shape of Konenut's broadcast frame."""
    return orjson.dumps({
        "site_id": "site", "seq": 1_000 + round_no, "id": f"019a{round_no:028d}",
        "type": "broadcast.sent", "version": 1, "incident_id": "019a" + "0" * 28,
        "occurred_at": "2026-01-01T00:00:00.000Z", "recorded_at": "2026-01-01T00:00:00.000Z",
        "actor": None, "device": None, "location": None,
        "payload": {"broadcast_id": "019a" + "1" * 28, "texts": {"en": round_text(round_no)}},
        "drill": False,
    }).decode()


def bare_position(key: int) -> str:
    """An event about the size and shape of Konenut's position frame; its seq is the key."""
    return orjson.dumps({
        "site_id": "site", "seq": key, "id": f"019a{key:028d}", "type": "position.reported",
        "version": 1, "incident_id": "019a" + "0" * 28,
        "occurred_at": "2026-01-01T00:00:00.000Z", "recorded_at": "2026-01-01T00:00:00.000Z",
        "actor": "019a" + "2" * 28, "device": "019a" + "3" * 28,
        "location": {"lat": 30.4301, "lon": 34.9702},
        "payload": {"subject_id": "019a" + "2" * 28, "callsign": None}, "drill": False,
    }).decode()


def serve_bare(port: int, loop_name: str) -> None:
    """A bare websockets server: every connection joins the audience; "fire N" broadcasts
    round N's message, "position K" a position-shaped message under key K."""
    from websockets.asyncio.server import ServerConnection, broadcast, serve
    from websockets.exceptions import ConnectionClosed

    audience: set[ServerConnection] = set()

    async def handler(connection: ServerConnection) -> None:
        audience.add(connection)
        try:
            async for message in connection:
                if isinstance(message, str) and message.startswith(("fire ", "position ")):
                    audience.discard(connection)  # the control connection is not a client
                    kind, number = message.split()
                    maker = bare_message if kind == "fire" else bare_position
                    broadcast(audience, maker(int(number)))
        except ConnectionClosed:  # the bench aborts its clients at the end
            pass
        finally:
            audience.discard(connection)

    async def main() -> None:
        async with serve(handler, HOST, port, compression=None, backlog=LISTEN_BACKLOG):
            print("ready", flush=True)
            await asyncio.Future()

    run_loop(main(), loop_name)


def serve_konenut(port: int, data_dir: Path, event: str) -> None:
    """`konenut serve` as the CLI runs it (uvicorn defaults), printing "ready" once streaming."""
    import uvicorn

    from konenut.config import Settings
    from konenut.server import create_app

    settings = Settings(data_dir=data_dir)
    if event == POSITION:
        settings = settings.model_copy(update={"stream_coalesce_ms": 0})
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="warning",
                                           backlog=LISTEN_BACKLOG))

    def committed(_site_id: str, events: Sequence[Any]) -> None:
        """Subscribed before the stream's bus: the moment the event is durable, for the driver."""
        print(f"committed {events[-1].seq} {time.monotonic()!r}", flush=True)

    app.state.runtime.store.subscribe(committed)

    def announce() -> None:
        while not (server.started and app.state.stream_hub.started):
            time.sleep(0.05)
        print("ready", flush=True)

    threading.Thread(target=announce, daemon=True).start()
    server.run()


def run_loop(main: Any, loop_name: str) -> None:
    if loop_name == "uvloop":
        import uvloop

        uvloop.run(main)
    else:
        asyncio.run(main)


@dataclass
class ServerProcess:
    kind: str
    process: subprocess.Popen[bytes]
    port: int
    commits: dict[int, float] = field(default_factory=dict)  # seq -> when it was durable

    def read_output(self) -> None:
        """Note the "committed SEQ T" lines the Konenut server prints."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            parts = line.split()
            if len(parts) == 3 and parts[0] == b"committed":
                self.commits[int(parts[1])] = float(parts[2])

    def commit_time(self, seq: int) -> float:
        deadline = time.monotonic() + ROUND_TIMEOUT_SECS
        while seq not in self.commits:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not report committing seq {seq}")
            time.sleep(0.001)
        return self.commits[seq]

    def rss_kib(self) -> int:
        with open(f"/proc/{self.process.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def cpu_secs(self) -> float:
        """User + system CPU time the server process has used (all its threads)."""
        with open(f"/proc/{self.process.pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def server_process(kind: str, data_dir: Path, loop_name: str,
                   event: str) -> Iterator[ServerProcess]:
    port = free_port()
    argv = [sys.executable, __file__, f"--serve-{kind}", str(port), "--bare-loop", loop_name,
            "--data-dir", str(data_dir), "--event", event]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, cwd=REPO)
    server = ServerProcess(kind, process, port)
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + READY_TIMEOUT_SECS
        while process.stdout.readline().strip() != b"ready":
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {kind} server did not start")
        threading.Thread(target=server.read_output, daemon=True).start()
        yield server
    finally:
        server.stop()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# --- the clients (in client processes) -----------------------------------------------------------
class BenchClient(asyncio.Protocol):
    """One WebSocket client on websockets' sans-I/O protocol: no task per connection."""

    def __init__(self, worker: Worker, url: str, token: str | None) -> None:
        self.worker = worker
        self.ws = ClientProtocol(parse_uri(url))
        self.token = token
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.ws.send_request(self.ws.connect())
        self.flush()

    def data_received(self, data: bytes) -> None:
        arrived = time.monotonic()
        self.ws.receive_data(data)
        for event in self.ws.events_received():
            if isinstance(event, Response):
                self.on_handshake()
            elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                self.on_text(bytes(event.data), arrived)
        self.flush()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before ready"))
        self.worker.lost += 1

    def on_handshake(self) -> None:
        if self.ws.state is not State.OPEN:
            self.ready.set_exception(ConnectionError(f"handshake failed: {self.ws.handshake_exc}"))
        elif self.token is None:
            self.ready.set_result(None)
        else:
            self.send({"type": "auth", "token": self.token})

    def on_text(self, data: bytes, arrived: float) -> None:
        message = orjson.loads(data)
        kind = message["type"]
        if kind == "broadcast.sent":
            text = message["payload"]["texts"]["en"]
            self.worker.arrived(int(text.rsplit(" ", 1)[1]), arrived)
        elif kind == "position.reported":
            self.worker.arrived(message["seq"], arrived)
        elif kind == "live" and not self.ready.done():
            self.ready.set_result(None)
        elif kind == "ping":
            self.send({"type": "pong"})
        elif kind == "resync":
            self.worker.resyncs += 1

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send_text(orjson.dumps(message))

    def flush(self) -> None:
        if self.transport is not None:
            for chunk in self.ws.data_to_send():
                if chunk:
                    self.transport.write(chunk)


@dataclass
class Worker:
    """A client process's share of the clients, and the arrival times per round."""

    url: str
    clients: list[BenchClient] = field(default_factory=list)
    arrivals: dict[int, list[float]] = field(default_factory=dict)
    lost: int = 0
    resyncs: int = 0

    def arrived(self, key: int, when: float) -> None:
        """A message arrived: a broadcast's round number, or a position's seq (bare: its key)."""
        self.arrivals.setdefault(key, []).append(when)

    async def connect(self, tokens: Sequence[str | None]) -> int:
        """Open a connection per token (None: no auth); returns how many became ready."""
        loop = asyncio.get_running_loop()
        slots = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def one(token: str | None) -> bool:
            async with slots:
                try:
                    _transport, client = await loop.create_connection(
                        lambda: BenchClient(self, self.url, token), HOST, parse_uri(self.url).port)
                    await asyncio.wait_for(client.ready, 60.0)
                except (OSError, ConnectionError, TimeoutError):
                    return False
                self.clients.append(client)
                return True

        results = await asyncio.gather(*(one(token) for token in tokens))
        return sum(results)

    async def collect(self, keys: Sequence[int], deadline: float) -> dict[int, list[float]]:
        expected = len(self.clients)
        while (any(len(self.arrivals.get(key, ())) < expected for key in keys)
               and time.monotonic() < deadline):
            await asyncio.sleep(0.01)
        return {key: self.arrivals.pop(key, []) for key in keys}


def client_process(pipe: multiprocessing.connection.Connection, url: str) -> None:
    """Serve the driver's commands: connect, collect a round, close."""
    worker = Worker(url)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        while True:
            command, argument = await loop.run_in_executor(None, pipe.recv)
            if command == "connect":
                pipe.send(await worker.connect(argument))
            elif command == "collect":
                keys, deadline = argument
                pipe.send((await worker.collect(keys, deadline), worker.resyncs))
            else:
                for client in worker.clients:
                    if client.transport is not None:
                        client.transport.abort()
                pipe.send(None)
                return

    run_loop(main(), "uvloop" if has_uvloop() else "asyncio")


def has_uvloop() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


class ClientPool:
    """The client processes of one measurement."""

    def __init__(self, url: str, processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes: list[multiprocessing.connection.Connection] = []
        self.processes = []
        for _ in range(processes):
            ours, theirs = context.Pipe()
            process = context.Process(target=client_process, args=(theirs, url), daemon=True)
            process.start()
            self.pipes.append(ours)
            self.processes.append(process)

    def ask(self, command: str, arguments: Sequence[Any]) -> list[Any]:
        for pipe, argument in zip(self.pipes, arguments, strict=True):
            pipe.send((command, argument))
        return [pipe.recv() for pipe in self.pipes]

    def connect(self, tokens: Sequence[str | None]) -> int:
        shares = [tokens[i :: len(self.pipes)] for i in range(len(self.pipes))]
        return sum(self.ask("connect", shares))

    def collect(self, keys: Sequence[int], deadline: float) -> tuple[dict[int, list[float]], int]:
        """Each message's arrival times at every client, and the resyncs so far."""
        replies = self.ask("collect", [(keys, deadline)] * len(self.pipes))
        arrivals = {key: [t for times, _ in replies for t in times[key]] for key in keys}
        return arrivals, sum(r for _, r in replies)

    def close(self) -> None:
        self.ask("close", [None] * len(self.pipes))
        for process in self.processes:
            process.join(timeout=10)


# --- seeding the site ----------------------------------------------------------------------------
@dataclass
class Site:
    data_dir: Path
    incident_id: str
    commander: str
    tokens: list[str]  # residents first, interleaved with squad members
    head: int = 0


def seed_site(data_dir: Path, clients: int, resident_share: float) -> Site:
    """An incident, households and squad members, and an enrolled device per client."""
    from seeding import Seeder

    from konenut.app import commands as c
    from konenut.app import handlers
    from konenut.domain.roles import Role, SubjectKind

    seeder = Seeder(data_dir)
    store, site, all_done, enrol = seeder.store, seeder.site, seeder.all_done, seeder.enrol

    try:
        residents = round(clients * resident_share)
        squad = clients - residents
        incident = store.execute(site, handlers.open_incident(None, c.OpenIncident(title="Bench")))
        households = [b["household_id"] for b in all_done([
            handlers.add_household(None, c.AddHousehold(ref=f"h{i}", name=f"House {i}"))
            for i in range(math.ceil(residents / DEVICES_PER_HOUSEHOLD))])]
        people = [b["person_id"] for b in all_done([
            handlers.add_person(None, c.AddPerson(
                ref=f"p{i}", name=f"Member {i}",
                roles=[Role.COMMANDER if i == 0 else Role.RESPONDER]))
            for i in range(squad + 1)])]
        commander, *squad_tokens = enrol([(p, SubjectKind.PERSON) for p in people])
        resident_tokens = enrol([(households[i // DEVICES_PER_HOUSEHOLD], SubjectKind.HOUSEHOLD)
                                 for i in range(residents)])
        every = max(1, round(1 / (1 - resident_share)))
        tokens: list[str] = []
        for i, token in enumerate(resident_tokens):  # squad spread through, not all at the end
            if i % every == 0 and squad_tokens:
                tokens.append(squad_tokens.pop())
            tokens.append(token)
        tokens += squad_tokens
        return Site(data_dir, str(incident.body["incident_id"]), commander, tokens)
    finally:
        seeder.close()


# --- measuring -----------------------------------------------------------------------------------
@dataclass
class Result:
    kind: str
    clients: int
    connected: int
    latencies_ms: list[float]  # from the moment the event was durable (bare: sent)
    end_to_end_ms: list[float]  # from the moment the POST (bare: "fire") left the driver
    rounds: int
    kib_per_connection: float
    lost: int
    resyncs: int
    cpu_ms_per_event: float  # the server's CPU time from sending to everyone having it
    append_ms: list[float] = field(default_factory=list)

    def quantile(self, q: float, end_to_end: bool = False) -> float:
        ordered = sorted(self.end_to_end_ms if end_to_end else self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass(frozen=True)
class Sent:
    """One message a round sent: its key at the clients, when it was asked for, its seq."""

    key: int
    started: float
    seq: int | None  # None: bare (latency counts from `started`)


class Trigger:
    """Makes the server send round N's message(s); notes the moment just before each ask."""

    def __init__(self, kind: str, port: int, site: Site, stack: ExitStack,
                 args: argparse.Namespace) -> None:
        from websockets.sync.client import connect

        self.kind = kind
        self.site = site
        self.event: str = args.event
        self.burst: int = args.burst
        self.append_ms: list[float] = []
        if kind == KONENUT:
            self.http = stack.enter_context(
                httpx.Client(base_url=f"http://{HOST}:{port}", timeout=30.0))
        else:
            self.control = stack.enter_context(
                connect(f"ws://{HOST}:{port}/", compression=None))

    def fire(self, round_no: int) -> list[Sent]:
        """The round's messages (a broadcast, or a burst of positions)."""
        if self.kind == BARE:
            started = time.monotonic()
            if self.event == BROADCAST:
                self.control.send(f"fire {round_no}")
                return [Sent(round_no, started, None)]
            first = round_no * BARE_KEY_STRIDE
            return [self.bare_position(key) for key in range(first, first + self.burst)]
        if self.event == POSITION:
            return [self.report_position(token) for token in self.site.tokens[:self.burst]]
        started = time.monotonic()
        response = self.http.post(
            f"/api/v1/incidents/{self.site.incident_id}/broadcasts",
            json={"texts": {"en": round_text(round_no)}},
            headers={"Authorization": f"Bearer {self.site.commander}",
                     "Idempotency-Key": f"bench-{time.time_ns()}"})
        self.append_ms.append((time.monotonic() - started) * 1_000)
        response.raise_for_status()
        seq: int = response.json()["events"][0]["seq"]
        return [Sent(round_no, started, seq)]

    def bare_position(self, key: int) -> Sent:
        """One message of a bare burst, timed from its own ask (as each POST is)."""
        started = time.monotonic()
        self.control.send(f"position {key}")
        return Sent(key, started, None)

    def report_position(self, token: str) -> Sent:
        started = time.monotonic()
        response = self.http.post(
            f"/api/v1/incidents/{self.site.incident_id}/positions",
            json={"location": {"lat": 30.4301, "lon": 34.9702}},
            headers={"Authorization": f"Bearer {token}",
                     "Idempotency-Key": f"bench-{time.time_ns()}"})
        self.append_ms.append((time.monotonic() - started) * 1_000)
        response.raise_for_status()
        seq: int = response.json()["events"][0]["seq"]
        return Sent(seq, started, seq)


def measure(kind: str, clients: int, site: Site, args: argparse.Namespace) -> Result:
    with server_process(kind, site.data_dir, args.bare_loop, args.event) as server:
        path = "/api/v1/stream?since={}" if kind == KONENUT else "/"
        head = readyz_seq(server.port) if kind == KONENUT else 0
        url = f"ws://{HOST}:{server.port}{path.format(head)}"
        tokens: list[str | None] = [None] * clients
        if kind == KONENUT:
            tokens = list(site.tokens[:clients])
        pool = ClientPool(url, args.client_processes)
        try:
            warmup = max(MIN_WARMUP, round(clients * WARMUP_SHARE))
            connected = pool.connect(tokens[:warmup])
            time.sleep(SETTLE_SECS)
            rss_before = server.rss_kib()
            connected += pool.connect(tokens[warmup:])
            time.sleep(SETTLE_SECS)
            rss_after = server.rss_kib()
            per_connection = (rss_after - rss_before) / max(1, clients - warmup)
            latencies: list[float] = []
            end_to_end: list[float] = []
            lost = resyncs = 0
            cpu_secs = 0.0
            with ExitStack() as stack:
                trigger = Trigger(kind, server.port, site, stack, args)
                warm_up = trigger.fire(0)  # first request: lazy route set-up, imports
                pool.collect([s.key for s in warm_up], warm_up[0].started + ROUND_TIMEOUT_SECS)
                trigger.append_ms.clear()
                time.sleep(ROUND_PAUSE_SECS)
                for round_no in range(1, args.rounds + 1):
                    cpu_before = server.cpu_secs()
                    sent = trigger.fire(round_no)
                    keys = [s.key for s in sent]
                    arrivals, resyncs = pool.collect(keys, sent[0].started + ROUND_TIMEOUT_SECS)
                    cpu_secs += server.cpu_secs() - cpu_before
                    for message in sent:
                        times = arrivals[message.key]
                        appended = (message.started if message.seq is None
                                    else server.commit_time(message.seq))
                        latencies += [(t - appended) * 1_000 for t in times]
                        end_to_end += [(t - message.started) * 1_000 for t in times]
                        lost += clients - len(times)  # never connected counts as lost too
                    time.sleep(ROUND_PAUSE_SECS)
        finally:
            pool.close()
    events = args.rounds * (args.burst if args.event == POSITION else 1)
    return Result(kind, clients, connected, latencies, end_to_end, args.rounds, per_connection,
                  lost, resyncs, cpu_secs * 1_000 / events, trigger.append_ms)


def readyz_seq(port: int) -> int:
    seq: int = httpx.get(f"http://{HOST}:{port}/readyz", timeout=10.0).json()["seq"]
    return seq


def raise_fd_limit(clients: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = clients + FD_MARGIN
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise SystemExit(f"need {needed} file descriptors, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


# --- report --------------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(results: list[Result], args: argparse.Namespace) -> None:
    print(f"\n{'clients':>7}  {'server':<8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'KiB/conn':>9} {'CPU ms':>7} {'lost':>5} {'resync':>6}  note")
    for r in results:
        note = ""
        if r.append_ms:
            ordered = sorted(r.append_ms)
            note = (f"from the POST: p50 {r.quantile(0.5, True):.1f}, p99 "
                    f"{r.quantile(0.99, True):.1f} ms; POST answered in "
                    f"{ordered[len(ordered) // 2]:.1f} ms (median), {ordered[-1]:.1f} ms (max)")
        print(f"{r.clients:>7}  {r.kind:<8} {r.quantile(0.5):>8.1f} {r.quantile(0.99):>8.1f} "
              f"{max(r.latencies_ms, default=float('nan')):>8.1f} {r.kib_per_connection:>9.1f} "
              f"{r.cpu_ms_per_event:>7.0f} {r.lost:>5} {r.resyncs:>6}  {note}")
    by_key = {(r.kind, r.clients): r for r in results}
    print()
    for clients in args.clients:
        ours, bare = by_key.get((KONENUT, clients)), by_key.get((BARE, clients))
        if ours is None or bare is None:
            continue
        p99_ratio = ours.quantile(0.99) / bare.quantile(0.99)
        memory_ratio = ours.kib_per_connection / bare.kib_per_connection
        cpu_ratio = ours.cpu_ms_per_event / max(bare.cpu_ms_per_event, 1e-9)
        p99_ok = verdict(p99_ratio <= TARGET_P99_RATIO)
        memory_ok = verdict(memory_ratio <= TARGET_MEMORY_RATIO)
        print(f"{clients} clients: p99 {ours.quantile(0.99):.0f} ms vs bare "
              f"{bare.quantile(0.99):.0f} ms = {p99_ratio:.2f}x "
              f"[target <= {TARGET_P99_RATIO:g}x: {p99_ok}]; memory "
              f"{ours.kib_per_connection:.1f} vs {bare.kib_per_connection:.1f} KiB/conn = "
              f"{memory_ratio:.2f}x [target <= {TARGET_MEMORY_RATIO:g}x: {memory_ok}]; "
              f"server CPU per event {cpu_ratio:.2f}x; "
              f"lost {ours.lost} (must be 0: {verdict(ours.lost == 0)})")
        if ours.append_ms:
            slowest = max(ours.append_ms)
            print(f"{clients} clients: slowest POST answered in {slowest:.0f} ms "
                  f"[target < {TARGET_POST_MS:.0f} ms: {verdict(slowest < TARGET_POST_MS)}]")
        if clients >= 5_000:
            ok = ours.quantile(0.99) < TARGET_P99_MS
            print(f"{clients} clients: p99 {ours.quantile(0.99):.0f} ms "
                  f"[target < {TARGET_P99_MS:.0f} ms: {verdict(ok)}]")
    reference = ", ".join(f"{n} clients {v}" if n else v for n, v in REFERENCE_BARE.items())
    print(f"(bare baseline on the 2-core reference machine: {reference})")


def describe_machine(args: argparse.Namespace) -> None:
    import websockets

    load = os.getloadavg()
    print(f"fan-out bench: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, websockets {websockets.__version__}, "
          f"load {load[0]:.2f}")
    print(f"clients {list(args.clients)} over {args.client_processes} client processes, "
          f"{args.rounds} rounds; bare server loop: {args.bare_loop}; konenut: uvicorn "
          f"defaults as `konenut serve` (loop auto); loopback, no compression")
    burst = f" (a burst of {args.burst} a round, every client squad)"
    print(f"event: {args.event}{burst if args.event == POSITION else ''}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_CLIENTS[0]} clients only")
    parser.add_argument("--clients", type=int, nargs="+", help="client counts to measure")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="rounds per measurement")
    parser.add_argument("--event", choices=(BROADCAST, POSITION), default=BROADCAST,
                        help="a broadcast per round, or a burst of positions (every client squad)")
    parser.add_argument("--burst", type=int, default=BURST_POSITIONS,
                        help="positions per round with --event position")
    parser.add_argument("--client-processes", type=int, default=CLIENT_PROCESSES)
    parser.add_argument("--bare-loop", choices=("uvloop", "asyncio"),
                        default="uvloop" if has_uvloop() else "asyncio",
                        help="event loop of the bare server (default: the one uvicorn uses)")
    parser.add_argument("--only", choices=(BARE, KONENUT), help="measure one server")
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-konenut", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.clients is None:
        args.clients = QUICK_CLIENTS if args.quick else DEFAULT_CLIENTS
    args.clients = tuple(sorted(set(args.clients)))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_bare is not None:
        serve_bare(args.serve_bare, args.bare_loop)
        return 0
    if args.serve_konenut is not None:
        serve_konenut(args.serve_konenut, args.data_dir, args.event)
        return 0
    raise_fd_limit(max(args.clients))
    describe_machine(args)
    data_dir = Path(tempfile.mkdtemp(prefix="konenut-fanout-"))
    try:
        started = time.monotonic()
        share = RESIDENT_SHARE if args.event == BROADCAST else 0.0
        site = seed_site(data_dir, max(args.clients), share)
        print(f"seeded {len(site.tokens)} devices in {time.monotonic() - started:.1f} s")
        results = []
        for clients in args.clients:
            for kind in (BARE, KONENUT):
                if args.only in (None, kind):
                    result = measure(kind, clients, site, args)
                    print(f"  {kind:<8} {clients:>5} clients: p99 {result.quantile(0.99):.1f} ms, "
                          f"{result.kib_per_connection:.1f} KiB/conn", flush=True)
                    results.append(result)
        report(results, args)
        print(f"load after: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
