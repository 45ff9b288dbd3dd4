"""Check-ins: 2,000 households check in within one second over HTTP, against bare appends.

  konenut  `konenut serve` (a subprocess, as a user runs it; escalation off) on a SQLite data dir
           seeded beforehand with N households, one enrolled resident device per household, a
           commander's device and an open incident. A load process of its own sends one
           `POST /api/v1/incidents/{id}/households/{hh}/check-ins` per household, each with its
           own bearer token and Idempotency-Key, on a new connection (every household is a
           different phone), on an OPEN-LOOP schedule: request i leaves at t0 + i x window / N,
           whatever the server's answers so far (a closed-loop tool such as wrk would wait for
           answers and hide queueing: coordinated omission). Latency = scheduled send -> the
           201 read back; the server answers 201 only once the event is fsync'd (durable).
  board    meanwhile the driver polls `GET /api/v1/incidents/{id}/households` with the
           commander's token until all N households show the status they sent (every second
           while answers come, every 0.05 s after the last): the time from t0 is "the board
           shows all". Also measured: the HTTP floor, server CPU per `GET /healthz` on a new
           connection.
  baseline in the same run, on the same disk, before the server starts (bench/append.py's
           code): N `household.checked_in` events through EventStore directly, all submitted
           at once (the writer the server uses, group commit, no HTTP), and the bare 1-thread
           sqlite3 INSERT + COMMIT loop.

Figures: p50 / p99 / max latency, errors (non-201 or broken connections), check-ins per second
from t0 to the last answer, the server's CPU time (/proc/PID/stat, all threads) per check-in in
µs (the board polls' share subtracted: their cost is measured alone afterwards), the time until
the board shows all N, and the events counted in the database after the server stopped (none
lost). PASS/MISS: p99 < 200 ms and none lost (issue 5).

--hostile: the site is a town whose plan grows with it (a square of buildings 25 m apart, four
households in each: 1,000 households make 263 buildings over about 400 m x 400 m), and the
commander reports one hostile sighting at the centre building before the measured check-ins:
each check-in is checked against the caution rules (issue 13). Nobody reports an intruder then
(each report would be one more threat).

Run from the repository root:  .venv/bin/python bench/checkins.py [--quick] [--households N]
[--window-seconds S] [--hostile] [--profile FILE]  (about half a minute on an idle 2-core box).
Loopback only, temporary files only, bounded by --max-seconds per phase (and per request).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import multiprocessing
import multiprocessing.connection
import os
import platform
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import append as appendbench  # bench/append.py: the baselines' code

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
KONENUT = str(Path(sys.executable).with_name("konenut"))  # the installed console script
DEFAULT_HOUSEHOLDS = 2_000
QUICK = {"households": 500}  # --quick: for `make bench`
WINDOW_SECS = 1.0
WARMUP = 50  # extra households that check in before the measured run
TARGET_P99_MS = 200.0  # issue 5
# The board is polled slowly while answers are still coming (each poll lists every household,
# and its CPU would come out of the check-ins'), then quickly once every answer is in.
BOARD_POLL_SECS = 1.0
BOARD_FAST_POLL_SECS = 0.05
BOARD_COST_POLLS = 10  # polls measured alone afterwards, to take their CPU out
FLOOR_REQUESTS = 200  # GET /healthz on new connections, one at a time: the HTTP floor
READY_TIMEOUT_SECS = 60.0
START_DELAY_SECS = 0.1  # t0 is this far ahead when the load process gets it
STATUSES = appendbench.STATUSES
TEXTS = appendbench.TEXTS
# Under --hostile nobody reports an intruder: each such report makes its building a threat too,
# and the run would measure a hundred threats, not the one sighting.
ONE_THREAT_STATUSES = tuple(s for s in STATUSES if s != "intruder")
TOWN_ORIGIN = (34.60, 31.40)  # (lon, lat) of the town's south-west building
TOWN_SPACING_M = 25.0
HOUSEHOLDS_PER_BUILDING = 4


# --- the site --------------------------------------------------------------------------------
@dataclass
class Site:
    data_dir: Path
    incident_id: str
    commander: str
    households: list[str]  # the measured ones, then the warm-up ones
    tokens: list[str]  # one resident device per household, same order
    hostile_at: dict[str, float] | None = None  # where the hostile is seen (--hostile)


def seed_site(data_dir: Path, households: int, hostile: bool = False) -> Site:
    """Households, a resident device each, a commander's device and an open incident; with
    `hostile`, the demo plan and a building for every household."""
    from seeding import Seeder

    from konenut.app import commands as c
    from konenut.app import handlers
    from konenut.domain.roles import Role, SubjectKind
    from konenut.domain.site_plan import FeatureKind, feature_points

    seeder = Seeder(data_dir)
    store, site, all_done, enrol = seeder.store, seeder.site, seeder.all_done, seeder.enrol
    buildings: dict[str, tuple[float, float]] = {}
    if hostile:
        plan = town_plan(-(-(households + WARMUP) // HOUSEHOLDS_PER_BUILDING))
        store.execute(site, handlers.configure_site(None, c.ConfigureSite(name="B", plan=plan)))
        buildings = feature_points(plan, FeatureKind.BUILDING)
    refs = list(buildings)

    def home(i: int) -> str | None:
        return refs[i // HOUSEHOLDS_PER_BUILDING] if refs else None

    try:
        incident = store.execute(site, handlers.open_incident(None, c.OpenIncident(title="Bench")))
        ids = [
            str(body["household_id"])
            for body in all_done(
                [
                    handlers.add_household(
                        None, c.AddHousehold(ref=f"h{i}", name=f"House {i}", building_ref=home(i))
                    )
                    for i in range(households + WARMUP)
                ]
            )
        ]
        commander = store.execute(
            site,
            handlers.add_person(
                None, c.AddPerson(ref="cmd", name="Commander", roles=[Role.COMMANDER])
            ),
        )
        (commander_token,) = enrol([(str(commander.body["person_id"]), SubjectKind.PERSON)])
        tokens = enrol([(h, SubjectKind.HOUSEHOLD) for h in ids])
        hostile_at = None
        if refs:
            lon, lat = town_point(*divmod(len(refs) // 2, math.isqrt(len(refs)) + 1))
            hostile_at = {"lat": lat, "lon": lon}
        incident_id = str(incident.body["incident_id"])
        return Site(data_dir, incident_id, commander_token, ids, tokens, hostile_at)
    finally:
        seeder.close()


def town_point(row: int, col: int) -> tuple[float, float]:
    lat = TOWN_ORIGIN[1] + row * TOWN_SPACING_M / 111_195
    lon = TOWN_ORIGIN[0] + col * TOWN_SPACING_M / (111_195 * math.cos(math.radians(31.4)))
    return lon, lat


def town_plan(buildings: int) -> dict[str, Any]:
    """A square town of `buildings` point buildings, row by row, inside its boundary."""
    side = math.isqrt(buildings) + 1
    cells = [divmod(b, side) for b in range(buildings)]
    corners = [town_point(-2, -2), town_point(-2, side + 1), town_point(side + 1, side + 1)]
    ring = [*corners, town_point(side + 1, -2), corners[0]]
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]},
            "properties": {"kind": "boundary", "ref": "town"},
        }
    ] + [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": list(town_point(row, col))},
            "properties": {"kind": "building", "ref": f"{row}-{col}"},
        }
        for row, col in cells
    ]
    return {"type": "FeatureCollection", "features": features}


def check_in_body(i: int, hostile: bool = False) -> dict[str, Any]:
    statuses = ONE_THREAT_STATUSES if hostile else STATUSES
    status = statuses[i % len(statuses)]
    return {"status": status, "people_count": 1 + i % 6, "text": TEXTS[i % 5]}


# --- the server (`konenut serve`, a subprocess) ------------------------------------------------
@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def cpu_secs(self) -> float:
        """User + system CPU time of the server process and its HTTP workers (`--workers`),
        all their threads."""
        return sum(_cpu_ticks(pid) for pid in self.pids()) / os.sysconf("SC_CLK_TCK")

    def pids(self) -> list[int]:
        """The server process and every process under it."""
        pids, pending = [], [self.process.pid]
        while pending:
            pid = pending.pop()
            pids.append(pid)
            with contextlib.suppress(FileNotFoundError):
                for task in Path(f"/proc/{pid}/task").iterdir():
                    pending += [int(c) for c in (task / "children").read_text().split()]
        return pids

    def stop(self) -> None:
        """SIGINT, as Ctrl-C: uvicorn shuts down cleanly (and cProfile writes its file)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _cpu_ticks(pid: int) -> int:
    """utime + stime of a process, all its threads (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0
    return int(fields[11]) + int(fields[12])


def start_server(
    data_dir: Path,
    log: Path,
    profile: Path | None,
    poll_secs: float = 0.1,
    extra_env: Mapping[str, str] | None = None,
    extra_argv: Sequence[str] = (),
) -> Server:
    """`konenut serve` on `data_dir` (escalation off; `extra_env` KONENUT_* settings and
    `extra_argv` options added), returned once /readyz answers 200 (asked every `poll_secs`)."""
    port = free_port()
    argv = [KONENUT, "serve", "--data-dir", str(data_dir), "--host", HOST, "--port", str(port)]
    argv += extra_argv
    if profile is not None:  # the main thread: the event loop, HTTP, auth, validation
        argv = [sys.executable, __file__, "--serve-profiled", str(profile), *argv[1:]]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KONENUT_")}
    env["KONENUT_ESCALATE"] = "false"
    env.update(extra_env or {})
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO
        )
    server = Server(process, port)
    deadline = time.monotonic() + READY_TIMEOUT_SECS
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
                raise RuntimeError(f"konenut serve exited; the end of its output:\n{tail}")
            try:
                if client.get(f"{server.url}/readyz").status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            time.sleep(poll_secs)
    server.stop()
    raise RuntimeError(f"konenut serve was not ready within {READY_TIMEOUT_SECS:.0f} s")


def serve_profiled(profile: Path, argv: list[str]) -> None:
    """`konenut serve ARGV` with the main thread under cProfile, timed by its own CPU clock (on
    a busy box wall-clock profiles count the time other processes had the CPU)."""
    import cProfile

    from konenut.cli import main as konenut_main
    from konenut.store.eventstore import EventStore

    profiler = cProfile.Profile(time.thread_time)
    writer = cProfile.Profile(time.thread_time)  # the store's writer thread, batch by batch
    write_batch = EventStore._write_batch

    def profiled_batch(store: EventStore, batch: Any) -> None:
        writer.enable()
        try:
            write_batch(store, batch)
        finally:
            writer.disable()

    EventStore._write_batch = profiled_batch  # type: ignore[method-assign,assignment]
    sys.argv = ["konenut", *argv]
    profiler.enable()
    try:
        konenut_main()
    except SystemExit:
        pass
    finally:
        profiler.disable()
        profiler.dump_stats(str(profile))
        writer.dump_stats(f"{profile}.writer")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# --- the load (a process of its own) ----------------------------------------------------------
Answer = tuple[int, float, float]  # (HTTP status or 0 for a broken connection, latency s, done)


def encode_request(port: int, path: str, token: str, body: dict[str, Any]) -> bytes:
    data = orjson.dumps(body)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Idempotency-Key: {uuid.uuid4()}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + data


async def send_one(port: int, request: bytes, due: float, timeout: float) -> Answer:
    """Wait until `due`, then one request on a new connection; latency counts from `due`."""
    await asyncio.sleep(max(0.0, due - time.monotonic()))
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(HOST, port)
            try:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                status = int(head.split(b" ", 2)[1])
            finally:
                writer.close()
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
        status = 0
    done = time.monotonic()
    return status, done - due, done


def load_process(conn: multiprocessing.connection.Connection) -> None:
    """Receives (port, requests, window, timeout), then t0; answers with every Answer."""
    port, requests, window, timeout = conn.recv()
    conn.send("ready")  # imports done: the schedule starts only now
    t0: float = conn.recv()

    async def main() -> list[Answer]:
        n = len(requests)
        return await asyncio.gather(
            *(send_one(port, r, t0 + i * window / n, timeout) for i, r in enumerate(requests))
        )

    try:
        import uvloop

        answers = uvloop.run(main())
    except ImportError:
        answers = asyncio.run(main())
    conn.send(answers)


class Load:
    """The load process: started before t0, told the requests, then when to begin."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=load_process, args=(child,), daemon=True)
        self.process.start()

    def run(self, port: int, requests: list[bytes], window: float, timeout: float) -> float:
        """Hand over the requests; returns t0, the moment the first one is due."""
        self.conn.send((port, requests, window, timeout))
        if not self.conn.poll(READY_TIMEOUT_SECS) or self.conn.recv() != "ready":
            raise RuntimeError("the load process did not start")
        t0 = time.monotonic() + START_DELAY_SECS
        self.conn.send(t0)
        return t0

    def answers(self, timeout: float) -> list[Answer]:
        if not self.conn.poll(timeout):
            raise RuntimeError("the load process did not finish in time")
        answers: list[Answer] = self.conn.recv()
        self.process.join(timeout=5)
        return answers


# --- the board ---------------------------------------------------------------------------------
@dataclass
class Board:
    """Polls the households list until every household shows the status it sent."""

    url: str
    token: str
    expected: dict[str, str]  # household_id -> status
    polls: int = 0
    shown_at: float | None = None
    last_count: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    answered: threading.Event = field(default_factory=threading.Event)  # poll fast from now

    def shown(self, client: httpx.Client) -> int:
        rows = client.get(self.url, headers={"Authorization": f"Bearer {self.token}"}).json()
        return sum(
            1
            for row in rows
            if row["checkin"] is not None
            and self.expected.get(row["household_id"]) == row["checkin"]["status"]
        )

    def watch(self, t0: float, deadline: float) -> None:
        with httpx.Client(timeout=30.0) as client:
            time.sleep(max(0.0, t0 - time.monotonic()))
            while not self.stop.is_set() and time.monotonic() < deadline:
                began = time.monotonic()
                self.last_count = self.shown(client)
                self.polls += 1
                if self.last_count == len(self.expected):
                    self.shown_at = time.monotonic()
                    return
                if self.answered.is_set():
                    time.sleep(max(0.0, BOARD_FAST_POLL_SECS - (time.monotonic() - began)))
                else:  # woken early by the last answer
                    self.answered.wait(max(0.0, BOARD_POLL_SECS - (time.monotonic() - began)))


# --- measuring ---------------------------------------------------------------------------------
@dataclass
class HttpRun:
    answers: list[Answer]
    t0: float
    cpu_secs: float
    board_polls: int
    board_secs: float | None
    board_count: int
    cpu_per_poll: float = 0.0
    cpu_per_floor: float = 0.0
    stored: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.latencies_ms = [a[1] * 1e3 for a in self.answers]

    @property
    def errors(self) -> int:
        return sum(1 for a in self.answers if a[0] != 201)

    @property
    def seconds(self) -> float:
        return max(a[2] for a in self.answers) - self.t0

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]

    def cpu_us_per_checkin(self) -> float:
        own = self.cpu_secs - self.board_polls * self.cpu_per_poll
        return max(0.0, own) / len(self.answers) * 1e6


def requests_for(site: Site, port: int, indices: range) -> list[bytes]:
    return [
        encode_request(
            port,
            f"/api/v1/incidents/{site.incident_id}/households/{site.households[i]}/check-ins",
            site.tokens[i],
            check_in_body(i, site.hostile_at is not None),
        )
        for i in indices
    ]


def measure_http(site: Site, args: argparse.Namespace, tmp: Path) -> HttpRun:
    n = args.households
    profile: Path | None = args.profile
    workers = ["--workers", str(args.workers)] if args.workers > 1 else []
    server = start_server(site.data_dir, tmp / "serve.log", profile, extra_argv=workers)
    try:
        warm = Load()  # warm-up: the extra households, same path, not measured
        warmup = requests_for(site, server.port, range(n, n + WARMUP))
        warm.run(server.port, warmup, 0.2, args.max_seconds)
        statuses = sorted({a[0] for a in warm.answers(args.max_seconds + 10)})
        if statuses != [201]:
            raise RuntimeError(f"warm-up check-ins answered {statuses} (0: no answer), not 201")
        board = Board(
            f"{server.url}/api/v1/incidents/{site.incident_id}/households",
            site.commander,
            {
                site.households[i]: check_in_body(i, site.hostile_at is not None)["status"]
                for i in range(n)
            },
        )
        with httpx.Client(timeout=30.0) as client:
            board.shown(client)  # warm the board's route too
            if site.hostile_at is not None:
                report_hostile(client, server, site)
        load = Load()
        requests = requests_for(site, server.port, range(n))
        cpu0 = server.cpu_secs()
        t0 = load.run(server.port, requests, args.window_seconds, args.max_seconds)
        watcher = threading.Thread(target=board.watch, args=(t0, t0 + args.max_seconds))
        watcher.start()
        answers = load.answers(args.max_seconds + 10)
        cpu = server.cpu_secs() - cpu0
        board.answered.set()
        polls_in_window = board.polls  # the polls whose CPU is in `cpu` (one may be under way)
        watcher.join(args.max_seconds + 10)
        board.stop.set()
        run = HttpRun(
            answers,
            t0,
            cpu,
            polls_in_window,
            None if board.shown_at is None else board.shown_at - t0,
            board.last_count,
        )
        run.cpu_per_poll = board_poll_cost(server, board)
        run.cpu_per_floor = floor_cost(server)
    finally:
        server.stop()
    run.stored = stored_check_ins(site) - WARMUP
    if profile is not None:
        print_profile(profile)
    return run


def report_hostile(client: httpx.Client, server: Server, site: Site) -> None:
    """The commander reports a hostile group at a building's centre (--hostile)."""
    answer = client.post(
        f"{server.url}/api/v1/incidents/{site.incident_id}/sightings",
        headers={"Authorization": f"Bearer {site.commander}", "Idempotency-Key": "hostile"},
        json={"category": "hostile", "count": 3, "location": site.hostile_at},
    )
    if answer.status_code != 201:
        raise RuntimeError(f"the hostile sighting answered {answer.status_code}: {answer.text}")


def board_poll_cost(server: Server, board: Board) -> float:
    """Server CPU seconds per board poll, measured alone."""
    with httpx.Client(timeout=30.0) as client:
        cpu0 = server.cpu_secs()
        for _ in range(BOARD_COST_POLLS):
            board.shown(client)
        return (server.cpu_secs() - cpu0) / BOARD_COST_POLLS


def floor_cost(server: Server) -> float:
    """Server CPU seconds per `GET /healthz` on a new connection: the HTTP stack alone."""
    request = f"GET /healthz HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode()
    cpu0 = server.cpu_secs()
    for _ in range(FLOOR_REQUESTS):
        with socket.create_connection((HOST, server.port)) as sock:
            sock.sendall(request)
            while sock.recv(65536):
                pass
    return (server.cpu_secs() - cpu0) / FLOOR_REQUESTS


def stored_check_ins(site: Site) -> int:
    """`household.checked_in` events in the database, read after the server stopped."""
    with sqlite3.connect(site.data_dir / "konenut.db") as db:
        (count,) = db.execute(
            "SELECT count(*) FROM events WHERE type = 'household.checked_in'"
        ).fetchone()
    return int(count)


def print_profile(path: Path) -> None:
    import pstats

    stats = pstats.Stats(str(path))
    print("\nserver main thread (CPU time), top 25 by own time:")
    stats.sort_stats("tottime").print_stats(25)
    print(
        "server main thread (CPU time), Konenut's and the web stack's functions by cumulative time:"
    )
    stats.sort_stats("cumulative").print_stats(
        r"konenut/(api|app|store|domain)|starlette|fastapi", 30
    )
    print("the store's writer thread (CPU time), by cumulative time:")
    pstats.Stats(f"{path}.writer").sort_stats("cumulative").print_stats(25)


def measure_baselines(tmp: Path, n: int, max_secs: float) -> list[appendbench.Result]:
    """bench/append.py's store burst and bare 1-thread loop, N check-ins each, same disk."""
    warmup = max(appendbench.MIN_WARMUP, round(n * appendbench.WARMUP_FRACTION))
    results = [appendbench.bare_sqlite(tmp, 1, n, warmup, appendbench.Budget(max_secs))]
    from konenut import bootstrap

    store = bootstrap.open_store(f"sqlite:///{tmp / 'store-burst.db'}")
    try:
        site = appendbench.new_site("checkins")
        store.append(site.site_id, [appendbench.incident_opened(site)])
        events = appendbench.check_ins(site, warmup + n)
        for event in events[:warmup]:
            store.append(site.site_id, [event])
        latencies, seconds = appendbench.run_burst(
            store, site.site_id, events[warmup:], appendbench.Budget(max_secs)
        )
    finally:
        store.close()
    results.append(appendbench.Result("sqlite", "store burst", latencies, seconds, n))
    return results


# --- the report --------------------------------------------------------------------------------
def report(n: int, window: float, baselines: list[appendbench.Result], run: HttpRun) -> bool:
    print()
    print(
        "| path                          |     n | per s |  p50 ms |  p99 ms |   max ms | errors |"
    )
    print(
        "|-------------------------------|-------|-------|---------|---------|----------|--------|"
    )
    for b in baselines:
        name = "bare sqlite 1 thread" if b.scenario.startswith("bare") else "store burst (no HTTP)"
        print(
            f"| {name:<29} | {b.count:>5} | {b.rate:>5.0f} | {b.quantile(0.5):>7.2f} |"
            f" {b.quantile(0.99):>7.2f} | {max(b.latencies_ms):>8.2f} | {0:>6} |"
        )
    rate = len(run.answers) / run.seconds
    print(
        f"| {f'HTTP check-ins ({window:g} s window)':<29} | {len(run.answers):>5} | {rate:>5.0f} |"
        f" {run.quantile(0.5):>7.2f} | {run.quantile(0.99):>7.2f} |"
        f" {max(run.latencies_ms):>8.2f} | {run.errors:>6} |"
    )
    burst = baselines[-1]
    print()
    print(f"offered: {n} check-ins in {window:g} s; last answer {run.seconds:.3f} s after t0")
    print(
        f"HTTP rate vs store burst: {rate / burst.rate:.2f}x;"
        f" vs bare sqlite 1 thread: {rate / baselines[0].rate:.2f}x;"
        f" p99 vs store burst p99: {run.quantile(0.99) / burst.quantile(0.99):.2f}x"
    )
    print(
        f"server CPU per check-in: {run.cpu_us_per_checkin():.0f} µs (the {run.board_polls}"
        f" board polls in the window, {run.cpu_per_poll * 1e3:.1f} ms CPU each, taken out;"
        f" raw {run.cpu_secs / n * 1e6:.0f} µs)"
    )
    print(
        f"HTTP floor: {run.cpu_per_floor * 1e6:.0f} µs of server CPU per GET /healthz on a new"
        f" connection; the store's writer: {1e6 / burst.rate:.0f} µs of wall time per check-in"
        " in the burst"
    )
    board = "never" if run.board_secs is None else f"{run.board_secs:.3f} s after t0"
    print(
        f"board shows all {n}: {board} (polled every {BOARD_POLL_SECS:g} s, then every"
        f" {BOARD_FAST_POLL_SECS:g} s after the last answer; last poll: {run.board_count})"
    )
    print(f"stored after the server stopped: {run.stored} of {n} check-ins")
    p99_ok = run.quantile(0.99) < TARGET_P99_MS
    none_lost = run.errors == 0 and run.stored == n and run.board_count == n
    print(
        f"target p99 < {TARGET_P99_MS:g} ms: {verdict(p99_ok)} ({run.quantile(0.99):.1f} ms);"
        f" none lost: {verdict(none_lost)} ({run.errors} errors, {run.stored} stored,"
        f" {run.board_count} on the board)"
    )
    return p99_ok and none_lost


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def machine() -> str:
    model = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, load {load}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help=f"smaller: {QUICK}")
    parser.add_argument("--households", type=int, default=DEFAULT_HOUSEHOLDS)
    parser.add_argument("--window-seconds", type=float, default=WINDOW_SECS)
    parser.add_argument("--max-seconds", type=float, default=60.0, help="per phase")
    parser.add_argument(
        "--profile", type=Path, default=None, help="cProfile the server's main thread into FILE"
    )
    parser.add_argument("--tmp-dir", type=Path, default=None, help="measure another disk")
    parser.add_argument("--workers", type=int, default=1, help="konenut serve --workers N")
    parser.add_argument(
        "--hostile", action="store_true", help="a hostile sighting amid the households first"
    )
    args = parser.parse_args(argv)
    if args.quick:
        for name, value in QUICK.items():
            if getattr(args, name) == parser.get_default(name):
                setattr(args, name, value)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    n = args.households
    print(f"machine: {machine()}")
    print(f"{n} households, one check-in each within {args.window_seconds:g} s, new connections")
    if args.hostile:
        print("one hostile sighting reported amid the households' buildings before the check-ins")
    tmp = Path(tempfile.mkdtemp(prefix="konenut-bench-checkins-", dir=args.tmp_dir))
    try:
        baselines = measure_baselines(tmp, n, args.max_seconds)
        began = time.monotonic()
        site = seed_site(tmp / "data", n, args.hostile)
        print(f"seeded {n + WARMUP} households and devices in {time.monotonic() - began:.1f} s")
        run = measure_http(site, args, tmp)
        ok = report(n, args.window_seconds, baselines, run)
        if args.profile is not None:
            print("(under --profile: cProfile slows the server, so its figures are not the ones)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve-profiled"]:
        serve_profiled(Path(sys.argv[2]), sys.argv[3:])
        sys.exit(0)
    sys.exit(main())
