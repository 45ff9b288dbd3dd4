"""Positions: 200 phones report where they are every second; 100 squad viewers watch live.

  konenut  `konenut serve` (a subprocess, as a user runs it; escalation off) on a SQLite data dir
           seeded beforehand with 200 responders' devices, 100 operators' devices and an open
           incident. A device process of its own sends `POST /api/v1/incidents/{id}/positions`
           for each of the 200 devices once a second (its own bearer token, an Idempotency-Key,
           `occurred_at` = the wall-clock send time), each device on its own keep-alive
           connection, report k due at t0 + k + i / 200 (latency from due: a late answer makes
           the next report late, and counts). A viewer process of its own holds 100 live
           WebSocket streams (`/api/v1/stream`, authenticated with the operators' tokens) and
           notes, per frame, its size and when it arrived.
  runs     twice on the same seeded data: live coalescing off (`KONENUT_STREAM_COALESCE_MS=0`:
           every position to every viewer at once) and on (250 ms, the default: the latest
           position per unit per window, then a `coalesced` frame).
  baseline in the same run, before the server starts: the same number of `position.reported`
           events appended through EventStore directly (all submitted at once: the writer the
           server uses, group commit, no HTTP, no stream) — the rate the node could take.

Figures per run: end-to-end latency p50 / p99 / max (viewer receive time - the device's
`occurred_at`, same machine clock; it includes the HTTP request, the fsync'd commit, the
coalescing window and the fan-out), the server's CPU (/proc/PID/stat, all threads) as a share
of one core over the load, the time its threads were runnable but had no CPU (schedstat), bytes
received per viewer per second, position frames per viewer per second, HTTP errors, and whether
every viewer's last position of every unit is the one the server holds (GET /positions) —
coalescing must never lose the newest. Then the on/off ratios.
PASS/MISS: p99 < 500 ms with coalescing on (issue 6), and no viewer left with a stale picture.

Run from the repository root:
  .venv/bin/python bench/positions.py [--quick] [--devices N] [--viewers N]
[--seconds S] [--coalesce-ms MS]  (about 80 s on an idle 2-core box). Loopback only, temporary
files only, bounded: each phase has a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import multiprocessing
import multiprocessing.connection
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import checkins as cb  # bench/checkins.py: the server process, the machine line

HOST = cb.HOST
DEFAULT_DEVICES = 200
DEFAULT_VIEWERS = 100
DEFAULT_SECONDS = 20.0
DEFAULT_COALESCE_MS = 250
QUICK = {"devices": 50, "viewers": 20, "seconds": 5.0}  # --quick: for `make bench`
SETTLE_SECS = 15.0  # at most this long after the load for every viewer to hold the newest
PHASE_TIMEOUT_SECS = 60.0
TARGET_P99_MS = 500.0
BASE = (31.3940, 34.3260)  # lat, lon somewhere in a kibbutz


# --- the site --------------------------------------------------------------------------------
@dataclass
class Site:
    data_dir: Path
    incident_id: str
    devices: list[str]  # responders' tokens
    viewers: list[str]  # operators' tokens


def seed_site(data_dir: Path, devices: int, viewers: int) -> Site:
    """Responders and operators, a device each, and an open incident."""
    from seeding import Seeder

    from konenut.app import commands as c
    from konenut.app import handlers
    from konenut.domain.roles import Role, SubjectKind

    seeder = Seeder(data_dir)
    store, site = seeder.store, seeder.site

    def people(prefix: str, role: Role, n: int) -> list[str]:
        added = seeder.all_done(
            [
                handlers.add_person(
                    None,
                    c.AddPerson(ref=f"{prefix}{i}", name=f"{prefix} {i}", roles=[role]),
                )
                for i in range(n)
            ]
        )
        return seeder.enrol([(str(body["person_id"]), SubjectKind.PERSON) for body in added])

    try:
        incident = store.execute(site, handlers.open_incident(None, c.OpenIncident(title="Bench")))
        return Site(
            data_dir,
            str(incident.body["incident_id"]),
            people("r", Role.RESPONDER, devices),
            people("o", Role.OPERATOR, viewers),
        )
    finally:
        seeder.close()


def store_baseline(tmp: Path, count: int) -> float:
    """Positions per second appended through EventStore directly (group commit, no HTTP)."""
    from konenut import bootstrap
    from konenut.app import commands as c
    from konenut.app import handlers
    from konenut.app.identity import Actor
    from konenut.config import Settings
    from konenut.domain.events import Location
    from konenut.domain.roles import Role, SubjectKind

    settings = Settings(data_dir=tmp / "baseline")
    settings.data_dir.mkdir(parents=True)
    store = bootstrap.open_store(settings.resolved_database_url)
    try:
        site = settings.site_id
        incident = store.execute(site, handlers.open_incident(None, c.OpenIncident(title="Bench")))
        incident_id = str(incident.body["incident_id"])
        actors = [
            Actor(site, f"t{u}", f"u{u}", SubjectKind.PERSON, frozenset({Role.RESPONDER}))
            for u in range(200)
        ]
        decides = [
            handlers.report_position(
                actors[i % 200],
                incident_id,
                c.ReportPosition(location=Location(lat=BASE[0] + i * 1e-6, lon=BASE[1])),
            )
            for i in range(count)
        ]
        began = time.perf_counter()
        for future in [store.submit(site, decide) for decide in decides]:
            future.result()
        return count / (time.perf_counter() - began)
    finally:
        store.close()


# --- the server ------------------------------------------------------------------------------
def start_server(data_dir: Path, log: Path, coalesce_ms: int) -> cb.Server:
    port = cb.free_port()
    argv = [cb.KONENUT, "serve", "--data-dir", str(data_dir), "--host", HOST, "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KONENUT_")}
    env["KONENUT_ESCALATE"] = "false"
    env["KONENUT_STREAM_COALESCE_MS"] = str(coalesce_ms)
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cb.REPO,
        )
    server = cb.Server(process, port)
    deadline = time.monotonic() + cb.READY_TIMEOUT_SECS
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"konenut serve exited; see {log}")
            try:
                if client.get(f"{server.url}/readyz").status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"konenut serve was not ready within {cb.READY_TIMEOUT_SECS:.0f} s")


# --- the devices (a process of their own) -----------------------------------------------------
REQUEST_TIMEOUT_SECS = 10.0


async def read_answer(reader: asyncio.StreamReader) -> int:
    """One HTTP/1.1 answer off a keep-alive connection; its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(head.split(b" ", 2)[1])


def device_process(conn: multiprocessing.connection.Connection) -> None:
    """Receives (port, incident, tokens, seconds, rate, (lat, lon) the phones are around), says
    ready, gets t0 (wall clock);
    returns (status, seconds from due to answered) per report (status 0: none).

    Each phone has its own keep-alive connection (hand-written HTTP/1.1: an HTTP client
    library's pool cost more CPU than the server at this rate); a report is stamped when it
    leaves, and one that is over REQUEST_TIMEOUT_SECS late is counted as an error unsent."""
    port, incident_id, tokens, seconds, rate, base = conn.recv()
    conn.send("ready")
    t0: float = conn.recv()
    path = f"/api/v1/incidents/{incident_id}/positions"
    rng = random.Random(7)
    spots = [
        [base[0] + rng.uniform(-2e-3, 2e-3), base[1] + rng.uniform(-2e-3, 2e-3)] for _ in tokens
    ]

    def request(i: int) -> bytes:
        spot = spots[i]
        spot[0] += rng.uniform(-3e-5, 3e-5)  # a few metres a second: walking
        spot[1] += rng.uniform(-3e-5, 3e-5)
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        body = orjson.dumps(
            {"location": {"lat": spot[0], "lon": spot[1], "accuracy_m": 8}, "occurred_at": now}
        )
        return (
            f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            f"Authorization: Bearer {tokens[i]}\r\nIdempotency-Key: {uuid.uuid4()}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """A new connection, or None when the server does not take one in time (overloaded:
        the report counts as unanswered, and the next one tries again)."""
        try:
            opening = asyncio.open_connection(HOST, port)
            return await asyncio.wait_for(opening, REQUEST_TIMEOUT_SECS)
        except (OSError, TimeoutError):
            return None

    async def device(i: int, answers: list[tuple[int, float, float]]) -> None:
        """One phone: its own keep-alive connection, a report when each is due."""
        connection = await connect()
        n = len(tokens)
        for k in range(int(seconds * rate)):
            due = t0 + (k + i / n) / rate
            await asyncio.sleep(max(0.0, due - time.time()))
            if time.time() - due > REQUEST_TIMEOUT_SECS:  # far behind: skip, count, stay bounded
                answers.append((0, time.time() - due, float("nan")))
                continue
            sent = time.time()
            status = 0
            connection = connection or await connect()
            if connection is not None:
                try:
                    connection[1].write(request(i))
                    answer = read_answer(connection[0])
                    status = await asyncio.wait_for(answer, REQUEST_TIMEOUT_SECS)
                except (OSError, asyncio.IncompleteReadError, TimeoutError):
                    connection[1].close()
                    connection = None
            answered = time.time()
            answers.append((status, answered - due, answered - sent))
        if connection is not None:
            connection[1].close()

    async def main() -> list[tuple[int, float, float]]:
        answers: list[tuple[int, float, float]] = []
        await asyncio.gather(*(device(i, answers) for i in range(len(tokens))))
        return answers

    conn.send(run_loop(main()))


# --- the viewers (a process of their own) -----------------------------------------------------
@dataclass
class Seen:
    """What one viewer received between `begin` and `end` (wall clock)."""

    bytes: int = 0
    positions: int = 0
    coalesced: int = 0
    dropped: int = 0
    resyncs: int = 0


def viewer_process(conn: multiprocessing.connection.Connection) -> None:
    """Receives (port, tokens); says ready once all are live; gets (begin, end), then the
    server's newest seq per unit; returns (per-viewer Seen, latencies in ms of positions sent
    after `begin`, each viewer's last seq per unit).

    The clients are bench/fanout.py's: websockets' sans-I/O protocol, no task per connection
    (an asyncio client per connection cost a whole CPU at 20,000 frames a second)."""
    import fanout as fb

    port, tokens = conn.recv()
    url = f"ws://{HOST}:{port}/api/v1/stream"
    window: list[float] = []
    latencies = array("d")
    seen = [Seen() for _ in tokens]
    last: list[dict[str, int]] = [{} for _ in tokens]

    class Lost:
        lost = 0

    class Watcher(fb.BenchClient):
        def __init__(self, lost: Lost, i: int, token: str) -> None:
            super().__init__(lost, url, token)  # type: ignore[arg-type]
            self.i = i

        def on_text(self, data: bytes, _arrived: float) -> None:
            arrived = time.time()
            frame = orjson.loads(data)
            kind = frame["type"]
            if kind == "live" and not self.ready.done():
                self.ready.set_result(None)
            elif kind == "ping":
                self.send({"type": "pong"})
            elif kind == "position.reported":
                last[self.i][frame["payload"]["subject_id"]] = frame["seq"]
                sent = datetime.fromisoformat(frame["occurred_at"]).timestamp()
                if window and sent >= window[0]:  # sent during the load, whenever it arrived
                    latencies.append((arrived - sent) * 1e3)
            if not window or not window[0] <= arrived <= window[1]:
                return
            s = seen[self.i]
            s.bytes += len(data)
            if kind == "position.reported":
                s.positions += 1
            elif kind == "coalesced":
                s.coalesced += 1
                s.dropped += frame["dropped"]
            elif kind == "resync":
                s.resyncs += 1

    async def main() -> None:
        loop = asyncio.get_running_loop()
        lost = Lost()
        clients: list[Watcher] = []
        for i, token in enumerate(tokens):
            _transport, client = await loop.create_connection(
                functools.partial(Watcher, lost, i, token), HOST, port
            )
            clients.append(client)
        await asyncio.wait_for(asyncio.gather(*(c.ready for c in clients)), 30)
        conn.send("ready")
        window.extend(await asyncio.to_thread(conn.recv))  # (begin, end)
        newest = await asyncio.to_thread(conn.recv)  # the server's newest seq per unit
        deadline = time.monotonic() + SETTLE_SECS
        while any(mine != newest for mine in last) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        for client in clients:
            if client.transport is not None:
                client.transport.abort()

    run_loop(main())
    conn.send((seen, latencies, last))


def run_loop(work: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(work)
    except ImportError:
        return asyncio.run(work)


def spawn(target: Any) -> tuple[multiprocessing.connection.Connection, Any]:
    context = multiprocessing.get_context("spawn")
    conn, child = context.Pipe()
    process = context.Process(target=target, args=(child,), daemon=True)
    process.start()
    return conn, process


def expect(conn: multiprocessing.connection.Connection, what: str) -> Any:
    if not conn.poll(PHASE_TIMEOUT_SECS):
        raise RuntimeError(f"no {what} within {PHASE_TIMEOUT_SECS:.0f} s")
    return conn.recv()


def runnable_wait_secs(pid: int) -> float:
    """Seconds the process's threads spent runnable but waiting for a CPU (Linux schedstat).

    Low CPU with slow answers means waiting on something (a disk, a lock) only if this stays
    low too; when the box is oversubscribed this is where the time goes."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the thread ended meanwhile, or no schedstat on this kernel
    return total / 1e9


# --- one run ---------------------------------------------------------------------------------
@dataclass
class Run:
    coalesce_ms: int
    seconds: float
    # (HTTP status, due -> answered s, sent -> answered s) per report: the difference is the
    # device process's own lag (a report leaves late when the client is short of CPU)
    answers: list[tuple[int, float, float]]
    cpu_secs: float
    wait_secs: float  # the server's threads runnable but not running (no CPU free)
    seen: list[Seen]
    latencies_ms: list[float]
    stale_viewers: int

    def quantile(self, q: float) -> float:
        return quantile(self.latencies_ms, q)

    def post_quantile(self, q: float) -> float:
        return quantile(sorted(seconds * 1e3 for _status, seconds, _ in self.answers), q)

    def in_flight_quantile(self, q: float) -> float:
        """Sent -> answered: the server's share of the POST latency (and the loopback's)."""
        flights = (s * 1e3 for status, _due, s in self.answers if status)
        return quantile(sorted(flights), q)

    @property
    def errors(self) -> int:
        return sum(1 for status, _seconds, _ in self.answers if status != 201)

    @property
    def cpu_share(self) -> float:
        return self.cpu_secs / self.seconds

    def per_viewer_second(self, field: str) -> float:
        total: float = sum(getattr(s, field) for s in self.seen)
        return total / len(self.seen) / self.seconds


def quantile(ordered: Sequence[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def measure(site: Site, tmp: Path, coalesce_ms: int, seconds: float, rate: float) -> Run:
    server = start_server(site.data_dir, tmp / f"server-{coalesce_ms}.log", coalesce_ms)
    try:
        viewers, viewer_proc = spawn(viewer_process)
        devices, device_proc = spawn(device_process)
        viewers.send((server.port, site.viewers))
        devices.send((server.port, site.incident_id, site.devices, seconds, rate, BASE))
        expect(viewers, "live viewers")
        expect(devices, "device process")
        t0 = time.time() + 0.2
        devices.send(t0)
        viewers.send((t0, t0 + seconds))
        cpu_before = server.cpu_secs()
        wait_before = runnable_wait_secs(server.process.pid)
        time.sleep(max(0.0, t0 + seconds - time.time()))
        cpu_secs = server.cpu_secs() - cpu_before
        wait_secs = runnable_wait_secs(server.process.pid) - wait_before
        answers: list[tuple[int, float, float]] = expect(devices, "device answers")
        held = httpx.get(
            f"{server.url}/api/v1/incidents/{site.incident_id}/positions",
            headers={"Authorization": f"Bearer {site.viewers[0]}"},
        ).json()
        newest = {p["subject_id"]: p["seq"] for p in held}
        viewers.send(newest)
        seen, latencies, last = expect(viewers, "viewer figures")
        stale = sum(1 for mine in last if mine != newest)
        for process in (viewer_proc, device_proc):
            process.join(timeout=5)
    finally:
        server.stop()
    return Run(coalesce_ms, seconds, answers, cpu_secs, wait_secs, seen, sorted(latencies), stale)


# --- report ----------------------------------------------------------------------------------
def report(load: float, viewers: int, baseline: float, runs: list[Run]) -> bool:
    print(f"\nbaseline: EventStore alone appends {baseline:,.0f} positions/s (load: {load:g}/s)")
    columns = [
        "coalescing", "reports", "errors", "POST p50 / p99 ms", "in flight p50 / p99 ms",
        "p50 ms", "p99 ms", "max ms", "server CPU", "waiting for a CPU", "KiB/s per viewer",
        "positions/s per viewer", "coalesced frames/s", "stale viewers",
    ]  # fmt: skip
    print("\n| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for run in runs:
        cells = [
            f"{run.coalesce_ms} ms" if run.coalesce_ms else "off",
            str(len(run.answers)),
            str(run.errors),
            f"{run.post_quantile(0.5):.1f} / {run.post_quantile(0.99):.1f}",
            f"{run.in_flight_quantile(0.5):.1f} / {run.in_flight_quantile(0.99):.1f}",
            f"{run.quantile(0.5):.1f}",
            f"{run.quantile(0.99):.1f}",
            f"{run.quantile(1.0):.1f}",
            f"{run.cpu_share:.0%}",
            f"{run.wait_secs / run.seconds:.0%}",
            f"{run.per_viewer_second('bytes') / 1024:.1f}",
            f"{run.per_viewer_second('positions'):.1f}",
            f"{run.per_viewer_second('coalesced'):.2f}",
            f"{run.stale_viewers} / {viewers}",
        ]
        print("| " + " | ".join(cells) + " |")
    off, on = runs[0], runs[-1]
    byte_ratio = on.per_viewer_second("bytes") / max(1.0, off.per_viewer_second("bytes"))
    cpu_ratio = on.cpu_secs / max(1e-9, off.cpu_secs)
    p99_ratio = on.quantile(0.99) / max(1e-9, off.quantile(0.99))
    print(
        f"\non / off: bytes per viewer {byte_ratio:.2f}x, server CPU {cpu_ratio:.2f}x, "
        f"p99 {p99_ratio:.2f}x"
    )
    ok_latency = on.quantile(0.99) < TARGET_P99_MS
    ok_fresh = all(run.stale_viewers == 0 and run.errors == 0 for run in runs)
    verdict = {True: "PASS", False: "MISS"}
    print(f"\np99 < {TARGET_P99_MS:.0f} ms with coalescing on: {verdict[ok_latency]}")
    print(f"every viewer ends with every unit's newest position, no errors: {verdict[ok_fresh]}")
    return ok_latency and ok_fresh


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help=f"smaller and shorter: {QUICK}")
    parser.add_argument("--devices", type=int, default=DEFAULT_DEVICES)
    parser.add_argument("--viewers", type=int, default=DEFAULT_VIEWERS)
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS)
    parser.add_argument("--rate", type=float, default=1.0, help="reports per device per second")
    parser.add_argument("--coalesce-ms", type=int, default=DEFAULT_COALESCE_MS)
    parser.add_argument("--tmp-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        for name, value in QUICK.items():
            if getattr(args, name) == parser.get_default(name):
                setattr(args, name, value)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"machine: {cb.machine()}")
    print(
        f"{args.devices} devices x {args.rate:g} position/s for {args.seconds:g} s, "
        f"{args.viewers} live viewers; coalescing off, then {args.coalesce_ms} ms"
    )
    tmp = Path(tempfile.mkdtemp(prefix="konenut-bench-positions-", dir=args.tmp_dir))
    try:
        baseline = store_baseline(tmp, int(args.devices * args.seconds * args.rate))
        began = time.monotonic()
        site = seed_site(tmp / "data", args.devices, args.viewers)
        print(f"seeded {args.devices + args.viewers} devices in {time.monotonic() - began:.1f} s")
        runs = [measure(site, tmp, ms, args.seconds, args.rate) for ms in (0, args.coalesce_ms)]
        ok = report(args.devices * args.rate, args.viewers, baseline, runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
